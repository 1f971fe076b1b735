#version 330 core
// The refined matte as a texture (cpu.edge_weight, cpu.clip_matte), for the settings that work
// on it before the composite: choke, feather, or a spill_radius too wide for the composite to
// take in one window. At other settings the composite computes the same in its own pass.

#include "common.glsl"

uniform sampler2D matte_tex;     // the matte pass's guided matte, or the key pass (radius 0)

#define NEAR_R 0
#include "refine.glsl"

out float alpha_out;

void main() {
    alpha_out = refined_alpha(ivec2(gl_FragCoord.xy)).x;
}
