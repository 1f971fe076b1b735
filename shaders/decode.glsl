// cpu.decode_rgb for one pixel, shared by the key pass and the composite (which decodes again
// rather than store RGB: a few 8-bit fetches cost less than writing and reading a float RGB).
//
// Subsampled chroma is upsampled guided by luma (cpu.guided_chroma): the bilinear chroma plus
// the bilinear of its slope against luma times luma's detail below the chroma grid. The
// slopes and the chroma-grid luma come from the chroma guide pass (chroma_guide.frag.glsl),
// blended here with the same taps and weights as the chroma itself.

#include "planes.glsl"

uniform sampler2D chroma_guide;  // chroma guide pass: (slope_u, slope_v, chroma-grid luma, 0)
uniform mat3 yuv_matrix;         // YuvSpec.to_rgb() M as float32 (column-major: [col][row])
uniform vec3 yuv_offset;         // YuvSpec.to_rgb() offset, 0–1 units

float m(int row, int col) {
    return yuv_matrix[col][row];
}

// Frame → RGB 0–1, with the frame's own matrix and range.
vec3 decode_rgb(ivec2 p) {
    if (layout_rgb != 0) {
        return vec3(texelFetch(plane_rgb, p, 0).rgb) * (1.0 / 255.0);
    }
    float y = luma_code(p);
    vec2 uv;
    if (chroma_factors == ivec2(1)) {
        uv = chroma_code(p);
    } else {
        ChromaTaps t = chroma_taps(p);
        vec4 g = upsample_chroma(chroma_guide, t);
        uv = upsample_chroma(t) + g.xy * (y - g.z);
    }
    float yy = y * m(0, 0) - m(0, 0) * yuv_offset.x;
    float uu = uv.x - yuv_offset.y;
    float vv = uv.y - yuv_offset.z;
    vec3 rgb;
    rgb.r = yy + m(0, 2) * vv;
    rgb.g = yy + m(1, 1) * uu + m(1, 2) * vv;
    rgb.b = yy + m(2, 1) * uu;
    return clamp(rgb, 0.0, 1.0);
}
