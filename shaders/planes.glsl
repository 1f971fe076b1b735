// The frame's planes as the passes that read them see them (decode.glsl, chroma_guide), and
// cpu.upsample_chroma's taps.
//
// The planes are 8-bit unsigned-integer textures read with texelFetch, so each value is the
// exact integer numpy sees; the bilinear chroma weights are applied here rather than by the
// sampler, whose filtering is only 8-bit exact on some implementations (Mesa's llvmpipe).
// A plane texture may be wider than the picture (a decoder's row padding): only texels inside
// picture_size, or inside chroma_size for U and V, are ever read.

uniform int layout_rgb;          // 0: planes Y, U, V; 1: one RGB plane
uniform usampler2D plane_y;
uniform usampler2D plane_u;
uniform usampler2D plane_v;
uniform usampler2D plane_rgb;
uniform ivec2 picture_size;      // Frame.width, Frame.height
uniform ivec2 chroma_factors;    // Frame.chroma_factors: (2, 2) 4:2:0, (2, 1) 4:2:2, (1, 1) 4:4:4
uniform ivec2 chroma_size;       // U and V planes' width and height
uniform int chroma_centred;      // 1: chroma sits between two columns (YuvSpec.centred)

// Y, U, V as float 0–1 code values (cpu._decode_yuv's y/255, u/255, v/255).
float luma_code(ivec2 p) {
    return float(texelFetch(plane_y, p, 0).r) * (1.0 / 255.0);
}

vec2 chroma_code(ivec2 c) {
    return vec2(float(texelFetch(plane_u, c, 0).r), float(texelFetch(plane_v, c, 0).r))
        * (1.0 / 255.0);
}

// The chroma samples cpu.upsample_chroma blends for picture pixel p, and their weights: H.264
// siting, co-sited horizontally, centred vertically — row 2k = 0.75·c[k] + 0.25·c[k−1], row
// 2k+1 = 0.75·c[k] + 0.25·c[k+1], column 2j = c[j], column 2j+1 = 0.5·(c[j] + c[j+1]); or with
// chroma_centred, columns as the rows. Indices clamped. Rows are blended first, then columns,
// in the reference's order.
struct ChromaTaps {
    ivec2 col;                   // chroma columns (j, j + 1), centred: (j, its neighbour)
    ivec2 row;                   // chroma rows (k, its neighbour)
    vec2 wx;                     // (1, 0) on a co-sited column, (0.5, 0.5) between two;
                                 // centred: (0.75, 0.25)
    vec2 wy;                     // (0.75, 0.25) with vertical subsampling, else (1, 0)
};

ChromaTaps chroma_taps(ivec2 p) {
    ChromaTaps t;
    if (chroma_factors.y == 2) {
        int i = p.y / 2;
        int k = (p.y % 2 == 0) ? max(i - 1, 0) : min(i + 1, chroma_size.y - 1);
        t.row = ivec2(i, k);
        t.wy = vec2(3.0, 1.0) / 4.0;  // (0.75, 0.25), exact
    } else {
        t.row = ivec2(p.y);
        t.wy = vec2(1.0, 0.0);
    }
    if (chroma_factors.x == 2 && chroma_centred != 0) {
        int j = p.x / 2;
        int k = (p.x % 2 == 0) ? max(j - 1, 0) : min(j + 1, chroma_size.x - 1);
        t.col = ivec2(j, k);
        t.wx = vec2(3.0, 1.0) / 4.0;
    } else if (chroma_factors.x == 2) {
        int j = p.x / 2;
        t.col = ivec2(j, min(j + 1, chroma_size.x - 1));
        // 0.5·a + 0.5·b is exactly 0.5·(a + b); 1·a + 0·b exactly a.
        t.wx = (p.x % 2 == 0) ? vec2(1.0, 0.0) : vec2(0.5, 0.5);
    } else {
        t.col = ivec2(p.x);
        t.wx = vec2(1.0, 0.0);
    }
    return t;
}

// cpu.upsample_chroma of U and V (0–1 code values) at the taps.
vec2 upsample_chroma(ChromaTaps t) {
    vec2 c0 = t.wy.x * chroma_code(ivec2(t.col.x, t.row.x))
        + t.wy.y * chroma_code(ivec2(t.col.x, t.row.y));
    vec2 c1 = t.wy.x * chroma_code(ivec2(t.col.y, t.row.x))
        + t.wy.y * chroma_code(ivec2(t.col.y, t.row.y));
    return t.wx.x * c0 + t.wx.y * c1;
}

// cpu.upsample_chroma of a float texture on the chroma grid (all four channels) at the taps.
vec4 upsample_chroma(sampler2D g, ChromaTaps t) {
    vec4 c0 = t.wy.x * texelFetch(g, ivec2(t.col.x, t.row.x), 0)
        + t.wy.y * texelFetch(g, ivec2(t.col.x, t.row.y), 0);
    vec4 c1 = t.wy.x * texelFetch(g, ivec2(t.col.y, t.row.x), 0)
        + t.wy.y * texelFetch(g, ivec2(t.col.y, t.row.y), 0);
    return t.wx.x * c0 + t.wx.y * c1;
}
