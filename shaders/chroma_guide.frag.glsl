#version 330 core
// Pass 0, subsampled YUV frames only, drawn on the chroma grid (one fragment per U/V sample):
// cpu.chroma_luma (cpu.centred_luma where chroma_centred) and cpu.chroma_slopes. Writes
// guide_out (RGBA32F) = (slope_u, slope_v, yc, 0):
// the slope of each chroma channel against luma over the (2·CHROMA_GUIDE_RADIUS + 1)² window
// of chroma samples around this one (times the share of the window's chroma variance it
// explains by either siting's luma: cpu.fit_share), and this sample's chroma-grid luma yc.
// decode.glsl blends them bilinearly (float32: the slope multiplies luma's detail, and yc is
// subtracted from luma).
//
// The window's yc are computed here from the luma plane, a window row at a time: neighbouring
// chroma samples share a luma column, so a row of 2·CHROMA_GUIDE_RADIUS + 1 samples reads
// 4·CHROMA_GUIDE_RADIUS + 3 column pairs. The sums are row sums first, then the sum of the rows,
// in cpu.box_sum's order.

#include "common.glsl"
#include "planes.glsl"

#define WINDOW (2 * CHROMA_GUIDE_RADIUS + 1)

layout(location = 0) out vec4 guide_out;

// cpu.chroma_luma's first step at luma column x for chroma row i: the mean of luma rows 2i and
// 2i + 1 with vertical subsampling (row i itself without), edges clamped.
float column_mean(int x, int i) {
    int last = picture_size.y - 1;
    if (chroma_factors.y != 2) {
        return luma_code(ivec2(x, min(i, last)));
    }
    int y0 = min(2 * i, last);
    return 0.5 * (luma_code(ivec2(x, y0)) + luma_code(ivec2(x, min(y0 + 1, last))));
}

// yc (cpu.chroma_luma) of the window's samples on chroma row i: columns c.x − R … c.x + R,
// each [1, 2, 1]/4 over luma columns 2j − 1, 2j, 2j + 1 with horizontal subsampling; a sample
// past the plane's edge is the edge sample, as cpu.box_sum clamps. yq: the same samples'
// cpu.centred_luma, the mean of luma columns 2j and 2j + 1. Where chroma_centred, the two
// swap: yc is always the frame's own siting's luma, yq the other's.
void row_luma(int cx, int i, out float yc[WINDOW], out float yq[WINDOW]) {
    int last = picture_size.x - 1;
    int first = cx - CHROMA_GUIDE_RADIUS;
    if (chroma_factors.x != 2) {
        for (int k = 0; k < WINDOW; k++) {
            yc[k] = column_mean(min(clamp(first + k, 0, chroma_size.x - 1), last), i);
            yq[k] = yc[k];
        }
        return;
    }
    float col[2 * WINDOW + 1];   // luma columns 2·first − 1 … 2·(first + 2R) + 1, clamped
    for (int k = 0; k < 2 * WINDOW + 1; k++) {
        col[k] = column_mean(clamp(2 * first - 1 + k, 0, last), i);
    }
    for (int k = 0; k < WINDOW; k++) {
        // [1 2 1] / 4: the kernels' quarter and half weights, the same float (powers of 2).
        yc[k] = (col[2 * k] + col[2 * k + 2] + 2.0 * col[2 * k + 1]) / 4.0;
        yq[k] = 0.5 * (col[2 * k + 1] + col[2 * k + 2]);
    }
    for (int k = CHROMA_GUIDE_RADIUS - 1; k >= 0; k--) {
        yc[k] = first + k < 0 ? yc[k + 1] : yc[k];
        yq[k] = first + k < 0 ? yq[k + 1] : yq[k];
    }
    for (int k = CHROMA_GUIDE_RADIUS + 1; k < WINDOW; k++) {
        yc[k] = first + k > chroma_size.x - 1 ? yc[k - 1] : yc[k];
        yq[k] = first + k > chroma_size.x - 1 ? yq[k - 1] : yq[k];
    }
    if (chroma_centred != 0) {
        for (int k = 0; k < WINDOW; k++) {
            float t = yc[k];
            yc[k] = yq[k];
            yq[k] = t;
        }
    }
}

// cpu.fit_r2: the share of the window's chroma variance its slopes against this luma explain.
float fit_r2(float var, float var_c, vec2 cov) {
    return (cov.x * cov.x + cov.y * cov.y) / ((var + CHROMA_FIT_EPS) * (var_c + CHROMA_FIT_EPS));
}

void main() {
    ivec2 c = ivec2(gl_FragCoord.xy);
    ivec2 last = chroma_size - 1;
    // Window sums of yc, u, v, yc², yc·u, yc·v, u² + v², and of yq, yq², yq·u, yq·v.
    float s_y = 0.0, s_yy = 0.0, s_cc = 0.0, s_q = 0.0, s_qq = 0.0;
    vec2 s_c = vec2(0.0), s_yc = vec2(0.0), s_qc = vec2(0.0);
    float own = 0.0;
    for (int di = -CHROMA_GUIDE_RADIUS; di <= CHROMA_GUIDE_RADIUS; di++) {
        int i = clamp(c.y + di, 0, last.y);
        float yc[WINDOW], yq[WINDOW];
        row_luma(c.x, i, yc, yq);
        if (di == 0) {
            own = yc[CHROMA_GUIDE_RADIUS];
        }
        float r_y = 0.0, r_yy = 0.0, r_cc = 0.0, r_q = 0.0, r_qq = 0.0;
        vec2 r_c = vec2(0.0), r_yc = vec2(0.0), r_qc = vec2(0.0);
        for (int k = 0; k < WINDOW; k++) {
            vec2 uv = chroma_code(ivec2(clamp(c.x - CHROMA_GUIDE_RADIUS + k, 0, last.x), i));
            r_y += yc[k];
            r_c += uv;
            r_yy += yc[k] * yc[k];
            r_yc += yc[k] * uv;
            r_cc += uv.x * uv.x + uv.y * uv.y;
            r_q += yq[k];
            r_qq += yq[k] * yq[k];
            r_qc += yq[k] * uv;
        }
        s_y += r_y;
        s_c += r_c;
        s_yy += r_yy;
        s_yc += r_yc;
        s_cc += r_cc;
        s_q += r_q;
        s_qq += r_qq;
        s_qc += r_qc;
    }
    float n = 1.0 / float(WINDOW * WINDOW);
    float m_y = s_y * n;
    vec2 m_c = s_c * n;
    float var = max(s_yy * n - m_y * m_y, 0.0);
    float var_c = max(s_cc * n - (m_c.x * m_c.x + m_c.y * m_c.y), 0.0);
    vec2 cov = s_yc * n - m_y * m_c;
    float m_q = s_q * n;
    float var_q = max(s_qq * n - m_q * m_q, 0.0);
    vec2 cov_q = s_qc * n - m_q * m_c;
    float fit = max(soft_step(CHROMA_GUIDE_FIT_LO, CHROMA_GUIDE_FIT_HI, fit_r2(var, var_c, cov)),
                    soft_step(CHROMA_SITING_FIT_LO, CHROMA_SITING_FIT_HI, fit_r2(var_q, var_c, cov_q)));
    vec2 slope = cov * (1.0 / (var + CHROMA_GUIDE_EPS)) * fit;
    guide_out = vec4(slope, own, 0.0);
}
