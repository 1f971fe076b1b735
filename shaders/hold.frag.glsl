#version 330 core
// The still hold — cpu.hold_matte: a partial pixel shows the level it showed last frame,
// dragged to within the play d of this frame's matte (rounded to levels); d is still_hold
// (in levels) where the colour around the pixel did not move since the last frame and 0
// where it moved (cpu.motion_speed, cpu.colour_change, cpu.hold_play: the normal flow of the
// input bytes over the window of MOTION_REACH, a #define, and the pixel's own change). Without a previous frame (hold_prev 0) this frame's matte rounded
// to levels. Plain screen (0) and plain subject (refined_one and above) pass through, and the
// play is at most the distance from either. Writes
// the matte the composite shows, in levels (R8: every value it takes is a level, 0 or, for
// refined_one, 1), which GpuKeyer copies into held_tex for the next frame, as it copies the
// key pass's input bytes into samples_held_tex.

#include "common.glsl"

uniform sampler2D alpha_tex;         // the refined matte
uniform sampler2D held_tex;          // last frame's levels (R8: level / 255)
uniform sampler2D samples_tex;       // this frame's input bytes (RGBA8: byte / 255)
uniform sampler2D samples_held_tex;  // last frame's
uniform int hold_prev;               // 1: the held textures hold the previous frame's state

out float shown;

float levels(float a) {
    return floor(a * 255.0 + 0.5);
}

vec3 bytes_at(sampler2D t, ivec2 q) {
    return floor(texelFetch(t, q, 0).rgb * 255.0 + 0.5);
}

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    float a = texelFetch(alpha_tex, p, 0).r;
    if (a <= 0.0 || a >= refined_one) {
        shown = a;
        return;
    }
    float level = levels(a);
    float reach = min(level, levels(refined_one) - level);  // the play: no further than plain
    vec3 dc = abs(bytes_at(samples_tex, p) - bytes_at(samples_held_tex, p));
    float change = max(max(dc.r, dc.g), dc.b);
    // A pixel whose own bytes moved past COLOUR_MOVING, or a level from plain, has no play,
    // whatever the window's speed: most partial pixels of camera footage (its noise).
    if (hold_prev != 0 && change < float(COLOUR_MOVING) && reach > 0.0) {
        // Sums along each row of the window, then over the rows (of whole multiples of 1/4,
        // exact in any order); window pixels outside the picture add nothing. Gradients clamp
        // at the picture's edges.
        ivec2 last = textureSize(alpha_tex, 0) - 1;
        float sg = 0.0, sx = 0.0, sy = 0.0;
        for (int j = -MOTION_REACH; j <= MOTION_REACH; j++) {
            float rg = 0.0, rx = 0.0, ry = 0.0;
            for (int i = -MOTION_REACH; i <= MOTION_REACH; i++) {
                ivec2 q = p + ivec2(i, j);
                if (q.x < 0 || q.x > last.x || q.y < 0 || q.y > last.y) continue;
                vec3 gx = (bytes_at(samples_tex, ivec2(min(q.x + 1, last.x), q.y))
                           - bytes_at(samples_tex, ivec2(max(q.x - 1, 0), q.y))) * 0.5;
                vec3 gy = (bytes_at(samples_tex, ivec2(q.x, min(q.y + 1, last.y)))
                           - bytes_at(samples_tex, ivec2(q.x, max(q.y - 1, 0)))) * 0.5;
                vec3 dt = bytes_at(samples_tex, q) - bytes_at(samples_held_tex, q);
                vec3 g2 = gx * gx + gy * gy, tx = gx * dt, ty = gy * dt;
                rg += g2.r + g2.g + g2.b;
                rx += tx.r + tx.g + tx.b;
                ry += ty.r + ty.g + ty.b;
            }
            sg += rg;
            sx += rx;
            sy += ry;
        }
        float speed = sqrt(sx * sx + sy * sy) / (sg + MOTION_EPS);
        float ramp = clamp((speed - MOTION_STILL) / MOTION_SPAN, 0.0, 1.0);
        float kept = levels(texelFetch(held_tex, p, 0).r);
        float jump = clamp((change - float(COLOUR_STILL)) / float(COLOUR_MOVING - COLOUR_STILL),
                           0.0, 1.0);
        float d = min(floor(still_hold * 255.0 * (1.0 - max(ramp, jump)) + 0.5), reach);
        level = min(max(kept, level - d), level + d);
    }
    shown = level / 255.0;
}
