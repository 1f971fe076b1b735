#version 330 core
// The vertical half of the max − min filter, then cpu.edge_weight and cpu.clip_matte:
// the raw matte clipped black/white away from edges.

#include "common.glsl"

uniform sampler2D matte_tex;     // the guided matte, or the key pass when guide_radius is 0
uniform int matte_channel;       // 0 (guided matte) or 3 (the key pass's alpha)
uniform sampler2D spread_tex;    // pass 2: row-wise (max, min)
uniform int edge_radius;

out float alpha_out;

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    int last = textureSize(spread_tex, 0).y - 1;
    vec2 v = texelFetch(spread_tex, ivec2(p.x, clamp(p.y - edge_radius, 0, last)), 0).rg;
    float hi = v.x;
    float lo = v.y;
    for (int k = -edge_radius + 1; k <= edge_radius; k++) {
        v = texelFetch(spread_tex, ivec2(p.x, clamp(p.y + k, 0, last)), 0).rg;
        hi = max(hi, v.x);
        lo = min(lo, v.y);
    }
    float raw = texelFetch(matte_tex, p, 0)[matte_channel];
    alpha_out = clip_matte(raw, edge_weight(hi - lo));
}
