#version 330 core
// Last pass — cpu.spill_gate, cpu.unmix_despill and cpu.composite into an RGBA8 target:
// straight-alpha "over" a colour or an image, or straight RGBA when there is no background.
// RGB is decoded again from the planes (decode.glsl), the spill gate's membership half comes
// from the key pass (gate_tex), and its near-screen half is the min of the refined matte over
// the spill window. alpha_tex holds the refined matte (the colour model pass's clip and
// colour model, then choke / feather) and the min runs over near_tex, radius (NEAR_RX,
// NEAR_RY), #defines chromakey/keying/gpu/passes.py sets: (spill_radius, spill_radius), or
// (0, spill_radius) after a window_reduce pass along rows.
// With spill 0 the radius is 0: the gate is then unused.

#include "common.glsl"
#include "decode.glsl"

uniform sampler2D gate_tex;      // key pass: colour_gate
uniform sampler2D alpha_tex;     // the refined matte
uniform sampler2D near_tex;      // the matte again, or its min along rows over spill_radius
uniform sampler2D local_tex;     // colour model pass: cpu.LocalColour (0 where none)

uniform int background_mode;     // 0: none (straight RGBA out), 1: opaque RGB, 2: RGBA
uniform int background_is_image; // 0: background_color, 1: background_image
uniform vec4 background_color;
uniform sampler2D background_image;

out vec4 color_out;

// Straight-alpha 'over': fg is premultiplied; bg is used as background_mode says.
vec4 composite(vec3 fg, float alpha, vec4 bg) {
    if (background_mode == 0) {
        vec3 c = fg / max(alpha, ALPHA_FLOOR);
        c *= alpha > ALPHA_VISIBLE ? 1.0 : 0.0;
        return vec4(clamp(c, 0.0, 1.0), alpha);
    }
    if (background_mode == 2) {
        // A background with its own alpha: the subject over it, then the pair stays RGBA.
        float ba = bg.a;
        float out_a = alpha + (1.0 - alpha) * ba;
        vec3 prem = fg + (1.0 - alpha) * bg.rgb * ba;
        return clamp(vec4(prem / max(out_a, ALPHA_FLOOR), out_a), 0.0, 1.0);
    }
    return vec4(clamp(fg + (1.0 - alpha) * bg.rgb, 0.0, 1.0), 1.0);
}

// The min of near_tex over the window; pixels outside the picture are skipped (a clamped
// edge only repeats pixels inside it, which does not change a min).
float window_min(ivec2 p) {
    ivec2 last = textureSize(near_tex, 0) - 1;
    float m = 1.0;               // every matte value is in [0, 1]
    for (int j = -NEAR_RY; j <= NEAR_RY; j++) {
        int y = p.y + j;
        for (int i = -NEAR_RX; i <= NEAR_RX; i++) {
            int x = p.x + i;
            if (x >= 0 && x <= last.x && y >= 0 && y <= last.y) {
                m = min(m, texelFetch(near_tex, ivec2(x, y), 0).r);
            }
        }
    }
    return m;
}

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    vec3 rgb = decode_rgb(p);
    float alpha = texelFetch(alpha_tex, p, 0).r;
    float near_min = window_min(p);
    float gate = spill_gate(texelFetch(gate_tex, p, 0).r, 1.0 - near_min);
    vec3 fg = unmix_despill(rgb, alpha, gate, screen_at(p), texelFetch(local_tex, p, 0), key);
    vec4 bg = background_is_image != 0 ? texelFetch(background_image, p, 0) : background_color;
    color_out = composite(fg, alpha, bg);
}
