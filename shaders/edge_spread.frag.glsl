#version 330 core
// Pass 2 — the horizontal half of cpu.edge_weight's max − min filter over a
// (2·EDGE_RADIUS + 1)² square, edges clamped: (max, min) of the raw matte along a row.

uniform sampler2D matte_tex;     // the guided matte, or the key pass when guide_radius is 0
uniform int matte_channel;       // 0 (guided matte) or 3 (the key pass's alpha)
uniform int edge_radius;         // cpu.EDGE_RADIUS

out vec2 spread_out;

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    int last = textureSize(matte_tex, 0).x - 1;
    float a = texelFetch(matte_tex, ivec2(clamp(p.x - edge_radius, 0, last), p.y), 0)[matte_channel];
    float hi = a;
    float lo = a;
    for (int k = -edge_radius + 1; k <= edge_radius; k++) {
        a = texelFetch(matte_tex, ivec2(clamp(p.x + k, 0, last), p.y), 0)[matte_channel];
        hi = max(hi, a);
        lo = min(lo, a);
    }
    spread_out = vec2(hi, lo);
}
