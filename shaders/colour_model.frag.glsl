#version 330 core
// The edge test and clip (cpu.edge_weight, cpu.clip_matte, from a window of the guided matte:
// refine.glsl), then the local colour model (cpu.colour_model_matte) on the pixels the clip
// leaves partial: the column sums of colour_rows' row sums give the solid subject's mean colour
// beside the pixel, and its alpha moves toward where its own colour (decoded again here) lies
// between the screen's and that one. Writes the matte choke, feather and the composite read,
// and that mean colour with its weight (cpu.LocalColour), which the composite's unmix reads.
//
// Only a partial pixel (0 < alpha < 1: the model's ramp over colour_partial is 0 at 0 and at 1)
// reads the column or decodes, in loops whose trip count is 0 elsewhere: most of a frame is
// clipped to exactly 0 or 1, and a software rasteriser (llvmpipe) runs both sides of an `if`
// under a mask but leaves a loop as soon as no pixel of its group is in it (reach.frag.glsl
// does the same). MATTE_CHANNEL is a #define
// chromakey/keying/gpu/passes.py sets: 0 for the matte pass's matte, 1 for the raw matte.

#include "common.glsl"
#include "decode.glsl"

uniform sampler2D matte_tex;     // the matte pass's guided matte, or the key / reach pass's raw
uniform sampler2D rows_tex;      // colour_rows: row sums of solid_colour
uniform sampler2D raw_tex;       // the reach pass's guide target: the raw matte in channel 1

#define NEAR_R 0
#include "refine.glsl"

layout(location = 0) out float alpha_out;
layout(location = 1) out vec4 local_out;  // cpu.LocalColour for the composite: 0 where not partial

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    float alpha = refined_alpha(p).x;
    int partial = alpha > 0.0 && alpha < 1.0 ? 1 : 0;
    int last = textureSize(rows_tex, 0).y - 1;
    vec4 sums = vec4(0.0);       // 0 + t is t exactly: numpy's sum starts from the first tap
    for (int k = 0; k < partial * (2 * COLOUR_RADIUS + 1); k++) {
        sums += texelFetch(rows_tex, ivec2(p.x, clamp(p.y - COLOUR_RADIUS + k, 0, last)), 0);
    }
    // cpu.colour_mix's window of clear screen (colour_near_radius: cpu.near_radius), summed as
    // cpu.box_sum adds it: along each row first, every sum from its first tap.
    ivec2 edge = textureSize(raw_tex, 0) - 1;
    float clear_sum = 0.0;
    for (int k = 0; k < partial * (2 * colour_near_radius + 1); k++) {
        int y = clamp(p.y - colour_near_radius + k, 0, edge.y);
        int x0 = clamp(p.x - colour_near_radius, 0, edge.x);
        float row = clear_weight(texelFetch(raw_tex, ivec2(x0, y), 0).y);
        for (int d = 1 - colour_near_radius; d <= colour_near_radius; d++) {
            row += clear_weight(texelFetch(raw_tex, ivec2(clamp(p.x + d, 0, edge.x), y), 0).y);
        }
        clear_sum = k == 0 ? row : clear_sum + row;
    }
    vec4 local = vec4(0.0);
    for (int once = 0; once < partial; once++) {
        local = local_colour(alpha, sums);
        float mix_ = colour_mix_at(clear_sum);
        alpha = colour_model_matte(alpha, sums, decode_rgb(p), screen_at(p), mix_);
    }
    alpha_out = alpha;
    local_out = local;
}
