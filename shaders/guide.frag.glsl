#version 330 core
// Pass 2 (guide_radius ≤ chromakey.gpu.FUSED_GUIDE_RADIUS) — the guided filter's first box
// filter, its coefficients and the row half of its second box filter, in one pass:
//   for the 2r + 1 columns c around this pixel: (a, b, w)(c) = cpu.guide_coefficients of the
//   (2r + 1)² window sums of (luma, matte, luma·matte, luma²) around (c, y);
//   out: Σ over those columns of (a, b, w) — cpu.box_sum(coef, r, axis=1) at this pixel.
// Every sum runs tap by tap in cpu.box_sum's order (rows first, then columns; edges clamped),
// so the float32 results are numpy's. The 2r + 1 coefficient columns share their taps: one
// row of 4r + 1 texels is read once and summed 2r + 1 ways. Written as float32 (RG32F + R32F):
// b = mean − a·mean_luma carries a cancellation that 16 bits would not survive.
//
// GUIDE_RADIUS (r, 1 … FUSED_GUIDE_RADIUS) is a #define chromakey/keying/gpu/passes.py sets per
// program, so every loop has constant bounds and the arrays can live in registers.

#include "common.glsl"

#define R GUIDE_RADIUS

uniform sampler2D guide_tex;     // key pass: (luma, raw matte)

layout(location = 0) out vec2 ab_sums;
layout(location = 1) out float w_sums;

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    ivec2 last = textureSize(guide_tex, 0) - 1;
    vec4 window[2 * R + 1];      // window[d]: the sums for coefficient column p.x − R + d
    float window_pp[2 * R + 1];  // … and of matte²
    for (int d = 0; d <= 2 * R; d++) {
        window[d] = vec4(0.0);
        window_pp[d] = 0.0;
    }
    for (int m = -R; m <= R; m++) {
        int y = clamp(p.y + m, 0, last.y);
        vec4 row[4 * R + 1];     // row[j]: the terms at column p.x − 2R + j (clamped)
        float row_pp[4 * R + 1];
        for (int j = 0; j <= 4 * R; j++) {
            vec2 g = texelFetch(guide_tex, ivec2(clamp(p.x - 2 * R + j, 0, last.x), y), 0).rg;
            row[j] = vec4(g.x, g.y, g.x * g.y, g.x * g.x);
            row_pp[j] = g.y * g.y;
        }
        for (int d = 0; d <= 2 * R; d++) {
            vec4 h = vec4(0.0);  // 0 + t is t exactly: numpy's sum starts from the first tap
            float h_pp = 0.0;
            for (int i = 0; i <= 2 * R; i++) {
                h += row[d + i];
                h_pp += row_pp[d + i];
            }
            window[d] += h;
            window_pp[d] += h_pp;
        }
    }
    // Column p.x + k, clamped, is coefficient column d = clamp(p.x + k) − p.x + R; the columns
    // a clamped window repeats are the edge's own, which window[] computed for d in range.
    vec3 acc = vec3(0.0);
    for (int k = -R; k <= R; k++) {
        int d = clamp(p.x + k, 0, last.x) - p.x + R;
        acc += guide_coefficients(window[d], window_pp[d]);
    }
    ab_sums = acc.xy;
    w_sums = acc.z;
}
