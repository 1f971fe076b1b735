#version 330 core
// The still hold — cpu.hold_matte: a pixel keeps the level it showed last frame while no
// matte within HOLD_REACH (a #define) moved further than still_hold from what it shows;
// otherwise, or without a previous frame (hold_prev 0), this frame's matte rounded to levels.
// Plain screen (0) and plain subject (refined_one and above) pass through. Writes the matte
// the composite shows, in levels (R8: every value it takes is a level, 0 or, for refined_one,
// 1), which GpuKeyer copies into held_tex for the next frame.

#include "common.glsl"

uniform sampler2D alpha_tex;     // the refined matte
uniform sampler2D held_tex;      // last frame's levels (R8: level / 255)
uniform int hold_prev;           // 1: held_tex holds the previous frame's levels

out float shown;

float levels(float a) {
    return floor(a * 255.0 + 0.5) / 255.0;
}

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    float a = texelFetch(alpha_tex, p, 0).r;
    if (a <= 0.0 || a >= refined_one) {
        shown = a;
        return;
    }
    float level = levels(a);
    if (hold_prev != 0) {
        // The max of |matte − held| over the square; texels outside the picture are
        // skipped (a clamped edge only repeats texels inside it, which does not change a max).
        ivec2 last = textureSize(alpha_tex, 0) - 1;
        float moved = 0.0;
        for (int j = -HOLD_REACH; j <= HOLD_REACH; j++) {
            for (int i = -HOLD_REACH; i <= HOLD_REACH; i++) {
                ivec2 q = p + ivec2(i, j);
                if (q.x >= 0 && q.x <= last.x && q.y >= 0 && q.y <= last.y) {
                    float d = abs(texelFetch(alpha_tex, q, 0).r - texelFetch(held_tex, q, 0).r);
                    moved = max(moved, d);
                }
            }
        }
        if (moved <= still_hold) {
            level = texelFetch(held_tex, p, 0).r;
        }
    }
    shown = level;
}
