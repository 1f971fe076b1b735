#version 330 core
// Pass 2 — the horizontal half of cpu.edge_weight's max − min filter over a
// (2·EDGE_RADIUS + 1)² square, edges clamped: (max, min) of the raw matte along a row.

uniform sampler2D key_tex;       // pass 1: RGB + raw alpha
uniform int edge_radius;         // cpu.EDGE_RADIUS

out vec2 spread_out;

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    int last = textureSize(key_tex, 0).x - 1;
    float a = texelFetch(key_tex, ivec2(clamp(p.x - edge_radius, 0, last), p.y), 0).a;
    float hi = a;
    float lo = a;
    for (int k = -edge_radius + 1; k <= edge_radius; k++) {
        a = texelFetch(key_tex, ivec2(clamp(p.x + k, 0, last), p.y), 0).a;
        hi = max(hi, a);
        lo = min(lo, a);
    }
    spread_out = vec2(hi, lo);
}
