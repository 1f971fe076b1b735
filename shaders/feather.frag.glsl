#version 330 core
// One 1-D half of cpu._blur (feather_matte): taps from cpu.gaussian_weights(feather), summed
// in the same order, edges clamped. Rows first, then columns, as on the CPU.

// MAX_TAPS (a #define from chromakey/keying/gpu/passes.py): 2·ceil(the largest feather
// KeyerParams allows) + 1.

uniform sampler2D src;
uniform ivec2 direction;
uniform int taps;                // len(gaussian_weights(feather)), odd
uniform float weights[MAX_TAPS];

out float blurred;

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    ivec2 last = textureSize(src, 0) - 1;
    int n = taps / 2;
    float acc = 0.0;
    for (int k = 0; k < taps; k++) {
        acc += weights[k] * texelFetch(src, clamp(p + (k - n) * direction, ivec2(0), last), 0).r;
    }
    blurred = clamp(acc, 0.0, 1.0);  // weights sum to 1 only within rounding
}
