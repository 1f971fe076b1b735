#version 330 core
// Pass 3 — the refined matte: the guided matte (cpu.guided_matte's column half of the second
// box filter and its blend) at every pixel of the (2·EDGE_RADIUS + 1)² square around this one,
// their max − min (cpu.edge_weight), then cpu.clip_matte here. No intermediate texture holds
// the guided matte: its values are recomputed at the square's 25 pixels from the row sums,
// each column's 2·(BOX_ROWS + EDGE_RADIUS) + 1 texels read once.
//
// Pixels of the square outside the picture are skipped: a clamped edge only repeats pixels
// inside it, which changes neither a max nor a min.
//
// GUIDED (0: guide_radius 0, the matte is the raw matte) and BOX_ROWS (the rows each column
// sum still spans: guide_radius, or 0 when ab_tex / w_tex hold whole-window sums) are
// #defines chromakey/gpu.py sets per program: constant loop bounds, arrays in registers.

#include "common.glsl"

#define REACH (BOX_ROWS + EDGE_RADIUS)

uniform sampler2D guide_tex;     // key pass: (luma, raw matte)
uniform sampler2D ab_tex;        // row sums of (a, b): guide pass (or guide_rows / guide_cols)
uniform sampler2D w_tex;         // … and of w

out float alpha_out;

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    ivec2 last = textureSize(guide_tex, 0) - 1;
    float hi = 0.0;              // every matte value is in [0, 1]
    float lo = 1.0;
    float here = 0.0;
    for (int i = -EDGE_RADIUS; i <= EDGE_RADIUS; i++) {
        int x = p.x + i;
        if (x < 0 || x > last.x) {
            continue;
        }
        vec3 column[2 * REACH + 1];  // column[j]: the sums at row p.y − REACH + j (clamped)
        if (GUIDED != 0) {
            for (int j = 0; j <= 2 * REACH; j++) {
                ivec2 q = ivec2(x, clamp(p.y - REACH + j, 0, last.y));
                column[j] = vec3(texelFetch(ab_tex, q, 0).rg, texelFetch(w_tex, q, 0).r);
            }
        }
        for (int j = -EDGE_RADIUS; j <= EDGE_RADIUS; j++) {
            int y = p.y + j;
            if (y < 0 || y > last.y) {
                continue;
            }
            vec2 g = texelFetch(guide_tex, ivec2(x, y), 0).rg;
            float q = g.y;
            if (GUIDED != 0) {
                vec3 sums = vec3(0.0);
                for (int k = -BOX_ROWS; k <= BOX_ROWS; k++) {
                    sums += column[j + k + REACH];
                }
                q = guided_matte(sums, g.x, g.y);
            }
            hi = max(hi, q);
            lo = min(lo, q);
            if (i == 0 && j == 0) {
                here = q;
            }
        }
    }
    alpha_out = clip_matte(here, edge_weight(hi - lo));
}
