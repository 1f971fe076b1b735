// cpu.refine_matte's edge test and clip (edge_weight, clip_matte) at every pixel of a
// (2·NEAR_R + 1)² window around p, and the window's min of the clipped matte (spill_gate's
// near-screen test), from one read of the guided matte's (2·(NEAR_R + EDGE_RADIUS) + 1)²
// window: the max − min filters run separably in registers, rows then columns.
//
// The includer (colour_model.frag.glsl) declares `uniform sampler2D matte_tex;` and #defines
// MATTE_CHANNEL (0: the matte pass's matte, 1: the raw matte when guide_radius is 0) and NEAR_R
// (the window's radius; 0 for the pixel alone). Pixels outside the picture are left out of
// every max and min: a clamped edge only repeats pixels inside it, which changes neither.

#define QW (2 * (NEAR_R + EDGE_RADIUS) + 1)
#define AW (2 * NEAR_R + 1)
#define OUTSIDE -1.0             // below every matte value (all are in [0, 1])

// (the refined matte at p, its min over the window). Each window row b is finished as soon as
// the rows it needs are read, so (after unrolling) only 2·EDGE_RADIUS + 1 rows stay live.
vec2 refined_alpha(ivec2 p) {
    ivec2 last = textureSize(matte_tex, 0) - 1;
    int o = NEAR_R + EDGE_RADIUS;
    float row_hi[QW * AW];       // [r·AW + a]: max along row r of the 2·EDGE_RADIUS + 1 around column a
    float row_lo[QW * AW];
    float centre[AW * AW];       // [b·AW + a]: the matte at window pixel (a, b), or OUTSIDE
    float here = 0.0;
    float window_min = 1.0;
    for (int r = 0; r < QW; r++) {
        int y = p.y - o + r;
        float row[QW];
        for (int c = 0; c < QW; c++) {
            int x = p.x - o + c;
            bool inside = x >= 0 && x <= last.x && y >= 0 && y <= last.y;
            row[c] = inside ? texelFetch(matte_tex, ivec2(x, y), 0)[MATTE_CHANNEL] : OUTSIDE;
        }
        for (int a = 0; a < AW; a++) {
            float hi = 0.0;
            float lo = 1.0;
            for (int k = 0; k <= 2 * EDGE_RADIUS; k++) {
                float v = row[a + k];
                if (v != OUTSIDE) {
                    hi = max(hi, v);
                    lo = min(lo, v);
                }
            }
            row_hi[r * AW + a] = hi;
            row_lo[r * AW + a] = lo;
            if (r >= EDGE_RADIUS && r < EDGE_RADIUS + AW) {
                centre[(r - EDGE_RADIUS) * AW + a] = row[a + EDGE_RADIUS];
            }
        }
        int b = r - 2 * EDGE_RADIUS;  // the window row whose 2·EDGE_RADIUS + 1 rows are read
        if (b < 0) {
            continue;
        }
        for (int a = 0; a < AW; a++) {
            float q = centre[b * AW + a];
            if (q == OUTSIDE) {
                continue;
            }
            float hi = 0.0;
            float lo = 1.0;
            for (int k = 0; k <= 2 * EDGE_RADIUS; k++) {
                hi = max(hi, row_hi[(b + k) * AW + a]);
                lo = min(lo, row_lo[(b + k) * AW + a]);
            }
            float alpha = clip_matte(q, edge_weight(hi - lo));
            window_min = min(window_min, alpha);
            if (a == NEAR_R && b == NEAR_R) {
                here = alpha;
            }
        }
    }
    return vec2(here, window_min);
}
