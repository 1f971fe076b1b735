// cpu.decode_rgb for one pixel, shared by the key pass and the composite (which decodes again
// rather than store RGB: three 8-bit fetches cost less than writing and reading a float RGB).
//
// The planes are 8-bit unsigned-integer textures read with texelFetch, so each value is the
// exact integer numpy sees; the bilinear chroma weights are applied here rather than by the
// sampler, whose filtering is only 8-bit exact on some implementations (Mesa's llvmpipe).
// A plane texture may be wider than the picture (a decoder's row padding): only texels inside
// the picture, or inside chroma_size for U and V, are ever read.

uniform int layout_rgb;          // 0: planes Y, U, V; 1: one RGB plane
uniform usampler2D plane_y;
uniform usampler2D plane_u;
uniform usampler2D plane_v;
uniform usampler2D plane_rgb;
uniform ivec2 chroma_factors;    // Frame.chroma_factors: (2, 2) 4:2:0, (2, 1) 4:2:2, (1, 1) 4:4:4
uniform ivec2 chroma_size;       // U and V planes' width and height
uniform mat3 yuv_matrix;         // YuvSpec.to_rgb() M as float32 (column-major: [col][row])
uniform vec3 yuv_offset;         // YuvSpec.to_rgb() offset, 0–1 units

// cpu.upsample_chroma's vertical step at chroma column j for picture row y.
float chroma_column(usampler2D c, int j, int y) {
    if (chroma_factors.y != 2) {
        return float(texelFetch(c, ivec2(j, y), 0).r);
    }
    int i = y / 2;
    int k = (y % 2 == 0) ? max(i - 1, 0) : min(i + 1, chroma_size.y - 1);
    float ci = float(texelFetch(c, ivec2(j, i), 0).r);
    float ck = float(texelFetch(c, ivec2(j, k), 0).r);
    return 0.75 * ci + 0.25 * ck;
}

// Bilinear chroma upsampling, H.264 siting: co-sited horizontally, centred vertically.
// Same weights as cpu.upsample_chroma, i.e. a linear filter at texel (x/2 + 0.5, (y + 0.5)/2).
float upsample_chroma(usampler2D c, ivec2 p) {
    if (chroma_factors.x != 2) {
        return chroma_column(c, p.x, p.y);
    }
    int j = p.x / 2;
    float cj = chroma_column(c, j, p.y);
    if (p.x % 2 == 0) {
        return cj;
    }
    return 0.5 * (cj + chroma_column(c, min(j + 1, chroma_size.x - 1), p.y));
}

float m(int row, int col) {
    return yuv_matrix[col][row];
}

// Frame → RGB 0–1, with the frame's own matrix and range.
vec3 decode_rgb(ivec2 p) {
    float s = 1.0 / 255.0;
    if (layout_rgb != 0) {
        return vec3(texelFetch(plane_rgb, p, 0).rgb) * s;
    }
    float y = float(texelFetch(plane_y, p, 0).r);
    float yy = y * (s * m(0, 0)) - m(0, 0) * yuv_offset.x;
    float uu = upsample_chroma(plane_u, p) * s - yuv_offset.y;
    float vv = upsample_chroma(plane_v, p) * s - yuv_offset.z;
    vec3 rgb;
    rgb.r = yy + m(0, 2) * vv;
    rgb.g = yy + m(1, 1) * uu + m(1, 2) * vv;
    rgb.b = yy + m(2, 1) * uu;
    return clamp(rgb, 0.0, 1.0);
}
