#version 330 core
// Pass 1 — decode and key: planes → RGB (cpu.decode_rgb), screen membership and the terms of
// membership's reach (the first half of cpu.key_frame). Writes only what later passes need,
// narrow: keyed_out (RGBA32F): luma, own membership, share and what membership may rise to
// beside the screen (cpu.reach_terms), and seed_out (R32F): reach_seed, from which the reach
// pass (reach.frag.glsl) writes the guide target and solid_colour (float32: the raw matte is
// made of them); gate_out (R8): colour_gate, spill_gate's membership half, for the composite;
// samples_out (RGBA8, attached with the still hold on): the pixel's input bytes (Y and the
// chroma sample it lies in, or R, G, B: cpu.pixel_samples), which the hold compares with the
// last frame's. Luma is computed here once; membership is never
// computed again.

#include "common.glsl"
#include "decode.glsl"

layout(location = 0) out vec4 keyed_out;
layout(location = 1) out float gate_out;
layout(location = 2) out float seed_out;
layout(location = 3) out vec4 samples_out;

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    vec3 rgb = decode_rgb(p);
    vec4 hslc = rgb_to_hsl(rgb);
    float hue_m = hue_membership(hslc.x);
    float member = screen_membership(hue_m, hslc.y, hslc.z, hslc.w);
    vec3 screen_ = screen_at(p);
    float share = screen_share(key_excess(rgb, key), screen_excess(screen_, key));
    float own = own_membership(member, hslc.y);
    float can = pale != 0 ? member : can_mix(share, rgb, screen_);
    keyed_out = vec4(luma(rgb), own, share, can);
    seed_out = reach_seed(own, share);
    uvec3 s = layout_rgb != 0
        ? texelFetch(plane_rgb, p, 0).rgb
        : uvec3(texelFetch(plane_y, p, 0).r, texelFetch(plane_u, p / chroma_factors, 0).r,
                texelFetch(plane_v, p / chroma_factors, 0).r);
    samples_out = vec4(vec3(s) * (1.0 / 255.0), 1.0);
    gate_out = colour_gate(hue_m, hslc.y);
}
