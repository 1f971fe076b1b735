#version 330 core
// Last pass — cpu.spill_gate, cpu.unmix_despill and cpu.composite into an RGBA8 target:
// straight-alpha "over" a colour or an image, or straight RGBA when there is no background.

#include "common.glsl"

uniform sampler2D key_tex;       // pass 1: RGB + raw alpha
uniform sampler2D alpha_tex;     // the refined matte
uniform sampler2D near_tex;      // min of the refined matte over spill_radius

uniform int background_mode;     // 0: none (straight RGBA out), 1: opaque RGB, 2: RGBA
uniform int background_is_image; // 0: background_color, 1: background_image
uniform vec4 background_color;
uniform sampler2D background_image;

out vec4 color_out;

// Straight-alpha 'over': fg is premultiplied; bg is used as background_mode says.
vec4 composite(vec3 fg, float alpha, vec4 bg) {
    if (background_mode == 0) {
        vec3 c = fg / max(alpha, 1e-6);
        c *= alpha > 1.0 / 512.0 ? 1.0 : 0.0;
        return vec4(clamp(c, 0.0, 1.0), alpha);
    }
    if (background_mode == 2) {
        // A background with its own alpha: the subject over it, then the pair stays RGBA.
        float ba = bg.a;
        float out_a = alpha + (1.0 - alpha) * ba;
        vec3 prem = fg + (1.0 - alpha) * bg.rgb * ba;
        return clamp(vec4(prem / max(out_a, 1e-6), out_a), 0.0, 1.0);
    }
    return vec4(clamp(fg + (1.0 - alpha) * bg.rgb, 0.0, 1.0), 1.0);
}

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    vec3 rgb = texelFetch(key_tex, p, 0).rgb;
    float alpha = texelFetch(alpha_tex, p, 0).r;
    vec4 hslc = rgb_to_hsl(rgb);
    float hue_m = hue_membership(hslc.x);
    float gate = spill_gate(hue_m, hslc.y, 1.0 - texelFetch(near_tex, p, 0).r);
    vec3 fg = unmix_despill(rgb, alpha, gate, screen_at(p), key);
    vec4 bg = background_is_image != 0 ? texelFetch(background_image, p, 0) : background_color;
    color_out = composite(fg, alpha, bg);
}
