// The keyer's per-pixel functions. Each is the GLSL twin of the function of the same name in
// the numpy reference, chromakey/keying/reference/ (imported as cpu; rgb_to_hsl is in
// chromakey/core/color.py), and does the same float32 arithmetic in the same order, so the two
// read side by side. Settings come from params.glsl; constants (MIN_RAMP, HSL_EPS,
// MIN_SCREEN_EXCESS, EDGE_RADIUS …) are #defines that shader_defines() in
// chromakey/keying/gpu/passes.py generates from the Python values, never literals copied here.

#include "params.glsl"

// GLSL smoothstep, and a hard step (x > e0) when the ramp has no width.
float soft_step(float e0, float e1, float x) {
    if (e1 - e0 < MIN_RAMP) {  // a narrower slope would overflow
        return x > e0 ? 1.0 : 0.0;
    }
    float t = clamp((x - e0) * (1.0 / (e1 - e0)), 0.0, 1.0);
    return t * t * (3.0 - 2.0 * t);
}

// Hue in degrees [0, 360), HSL saturation, lightness and chroma (max − min), as a vec4.
vec4 rgb_to_hsl(vec3 rgb) {
    float r = rgb.r;
    float g = rgb.g;
    float b = rgb.b;
    float mx = max(max(r, g), b);
    float mn = min(min(r, g), b);
    float chroma = mx - mn;
    float lightness = (mx + mn) * 0.5;
    bool has_hue = chroma > HSL_EPS;
    float inv = 1.0 / (has_hue ? chroma : 1.0);
    float h;
    if (mx == r) {
        h = (g - b) * inv;
    } else if (mx == g) {
        h = (b - r) * inv + 2.0;
    } else {
        h = (r - g) * inv + 4.0;
    }
    h = (h < 0.0 ? h + 6.0 : h) * 60.0;
    h = has_hue ? h : 0.0;
    float denom = 1.0 - abs(2.0 * lightness - 1.0);
    float sat = min(chroma / max(denom, HSL_EPS), 1.0);
    sat = denom > HSL_EPS ? sat : 0.0;
    return vec4(h, sat, lightness, chroma);
}

// --- 2. screen membership ---------------------------------------------------------------

// 1 inside the hue window, ramping to 0 over hue_softness degrees outside it.
float hue_membership(float hue) {
    float d = abs(hue - hue_center);
    d = min(d, 360.0 - d);
    float outside = max(d - hue_width / 2.0, 0.0);
    return 1.0 - soft_step(0.0, hue_softness, outside);
}

// How much a pixel's colour is the screen's kind of colour, 0–1, guarded at the extremes.
float screen_membership(float hue_m, float sat, float light, float chroma) {
    float m = hue_m * soft_step(sat_min - sat_softness, sat_min, sat);
    m *= soft_step(0.5 * dark_guard, dark_guard, chroma);
    m *= 1.0 - soft_step(bright_guard, 1.0, light);
    m *= 1.0 - soft_step(sat_max, sat_max + sat_softness, sat);  // 1 when sat_max is 1
    return m;
}

// --- 2b. membership's reach ---------------------------------------------------------------
// cpu.reach_terms and cpu.reach_membership in two halves: the key pass computes each pixel's
// own terms (own_membership, reach_seed, and can_mix or, on a pale screen's window, the whole
// membership), the reach pass (reach.frag.glsl) the max of the seeds over the window around it
// (near) and the raised membership.

// The membership a pixel has away from the screen: on a pale screen's window, none below
// cpu.PALE_INTERIOR·sat_min (pale_interior: cpu.pale_ramp); all of it on a vivid one.
float own_membership(float membership, float sat) {
    return pale != 0 ? membership * soft_step(pale_interior.x, pale_interior.y, sat) : membership;
}

// membership · soft_step(REACH_SHARE, share): how surely the pixel is screen, for its neighbours.
float reach_seed(float membership, float share) {
    return membership * soft_step(reach_share.x, reach_share.y, share);
}

// Whether the pixel can be a mix with the screen: a share above what spill gives, and the
// foreground that share implies, (rgb − share·screen) / (1 − share), a colour (no channel over 1).
float can_mix(float share, vec3 rgb, vec3 screen_) {
    vec3 rest = rgb - share * screen_;  // the implied foreground × (1 − share)
    float over = max(max(rest.r, rest.g), rest.b) - (1.0 - share);
    return soft_step(reach_mix.x, reach_mix.y, share)
        * (1.0 - soft_step(reach_gamut.x, reach_gamut.y, over));
}

// The pixel's own membership raised towards ``can`` by the surely-screen pixels near it.
float reach_membership(float own, float near, float can) {
    return max(own, near * can);
}

// --- 3. fractional alpha ----------------------------------------------------------------

// How far the key channel stands above the larger of the other two.
float key_excess(vec3 rgb, int k) {
    return rgb[k] - max(rgb[(k + 1) % 3], rgb[(k + 2) % 3]);
}

// The screen's own key excess, floored at cpu.MIN_SCREEN_EXCESS.
float screen_excess(vec3 screen_, int k) {
    return max(key_excess(screen_, k), MIN_SCREEN_EXCESS);
}

// The share of the screen's colour a pixel holds, by its key excess: 0–1.
float screen_share(float excess, float screen_excess_) {
    return clamp(excess * (1.0 / screen_excess_), 0.0, 1.0);
}

// 1 − (the share of the screen's colour the pixel holds), gated by membership.
float raw_alpha(float share, float membership) {
    return 1.0 - membership * share;
}

// --- 4. the screen colour at each pixel -----------------------------------------------------

// cpu.map_axis for one pixel: (index0, index1) into a grid of `cells` blocks, and the fraction.
// u = (2x + 1 − cell) / (2·cell) blocks; k0 = floor(u) in integers, f exact as in numpy.
ivec2 map_axis(int x, int cell, int cells, out float frac) {
    int num = 2 * x + 1 - cell;
    int den = 2 * cell;
    int k0 = num >= 0 ? num / den : -((den - 1 - num) / den);
    frac = float(num - k0 * den) / float(den);
    return ivec2(clamp(k0, 0, cells - 1), clamp(k0 + 1, 0, cells - 1));
}

// cpu.screen_at at pixel p: the map's four nearest block centres, along x first, then along y,
// each step a + f·(b − a) (texelFetch, no hardware filtering, so the weights are numpy's).
vec3 screen_at(ivec2 p) {
    ivec2 cells = textureSize(screen_map, 0);
    float fx;
    float fy;
    ivec2 j = map_axis(p.x, screen_cell, cells.x, fx);
    ivec2 i = map_axis(p.y, screen_cell, cells.y, fy);
    vec3 a0 = texelFetch(screen_map, ivec2(j.x, i.x), 0).rgb;
    vec3 b0 = texelFetch(screen_map, ivec2(j.y, i.x), 0).rgb;
    vec3 a1 = texelFetch(screen_map, ivec2(j.x, i.y), 0).rgb;
    vec3 b1 = texelFetch(screen_map, ivec2(j.y, i.y), 0).rgb;
    vec3 top = a0 + fx * (b0 - a0);
    vec3 bottom = a1 + fx * (b1 - a1);
    return top + fy * (bottom - top);
}

// --- 5. the luma guide ----------------------------------------------------------------------
// The guided filter's sums are added tap by tap (guide.frag.glsl, or guide_rows / guide_cols
// for radii above chromakey.gpu.FUSED_GUIDE_RADIUS), in cpu.box_sum's order.

float luma(vec3 rgb) {
    return rgb.r * luma_w.x + rgb.g * luma_w.y + rgb.b * luma_w.z;
}

// Window sums of (luma, matte, luma·matte, luma²) → (a, b, w) of matte ≈ a·luma + b;
// w = var / (var + guide_eps): how much luma structure the window has.
// sums: (luma, matte, luma·matte, luma²); sum_pp: matte².
vec3 guide_coefficients(vec4 sums, float sum_pp) {
    vec4 m = sums * guide_norm;
    float m_pp = sum_pp * guide_norm;
    float var = max(m.w - m.x * m.x, 0.0);
    float var_p = max(m_pp - m.y * m.y, 0.0);
    float cov = m.z - m.x * m.y;
    float var_f = max(var, guide_eps);
    float a = cov / var_f;
    float rho2 = min(cov * cov / (var_f * max(var_p, GUIDE_MATTE_EPS)), 1.0);
    return vec3(a, m.y - a * m.x, var / (var + guide_eps) * soft_step(GUIDE_FIT_LO, GUIDE_FIT_HI, rho2));
}

// cpu.guided_matte's last step: the fit where the luma has structure, the raw matte elsewhere.
// coef_sums: the window sums of (a, b, w), scaled here by guide_norm as numpy scales them.
float guided_matte(vec3 coef_sums, float guide, float raw) {
    vec3 mean_coef = coef_sums * guide_norm;
    float fitted = mean_coef.x * guide + mean_coef.y;
    return clamp(mean_coef.z * fitted + (1.0 - mean_coef.z) * raw, 0.0, 1.0);
}

// --- 6. refinement ------------------------------------------------------------------------

// cpu.edge_weight after its max − min filter: 1 where the matte varies (hair, outlines) by
// more than the screen's grain does (edge_ramp: cpu.edge_ramp).
float edge_weight(float spread) {
    return soft_step(edge_ramp.x, edge_ramp.y, spread);
}

// Clip black/white away from edges only, so shadows go and hair stays fractional.
float clip_matte(float alpha, float edge) {
    float clipped = clamp((alpha - clip_black) * (1.0 / (clip_white - clip_black)), 0.0, 1.0);
    return clipped + edge * (alpha - clipped);
}

// --- 6b. the local colour model ---------------------------------------------------------------
// cpu.colour_model_matte in two halves: the pass that writes the raw matte (key, or reach) also
// writes each pixel's solid_colour, colour_rows.frag.glsl sums it along rows, and
// colour_model.frag.glsl down columns, then moves a partial pixel's alpha.

// cpu.local_foreground's terms of one pixel: its weight as solid subject and that times its colour.
vec4 solid_colour(float raw, vec3 rgb) {
    float w = soft_step(colour_solid.x, colour_solid.y, raw);
    return vec4(w, w * rgb);
}

// The colour model's ramp over colour_partial from 0 and from 1 (0 at exactly 0 and 1).
float colour_partial_ramp(float alpha) {
    return soft_step(0.0, colour_partial, alpha) * soft_step(0.0, colour_partial, 1.0 - alpha);
}

// cpu.colour_mix: the share of the way a trusted pixel moves, from the sum of the clear screen
// weights (clear_weight) within colour_near_radius (cpu.near_radius).
float clear_weight(float raw) {
    return 1.0 - soft_step(colour_clear.x, colour_clear.y, raw);
}

float colour_mix_at(float clear_sum) {
    float beside = soft_step(colour_near.x, colour_near.y, clear_sum);
    return colour_mix + beside * (colour_mix_near - colour_mix);
}

// cpu.fit_mix: the share more for a pixel on the line (residual: its distance from it), unless
// its clipped matte (alpha) reads it nearly solid.
float fit_mix(float residual, float alpha) {
    return colour_mix_fit * (1.0 - soft_step(colour_fit.x, colour_fit.y, residual))
        * (1.0 - soft_step(colour_fit_solid.x, colour_fit_solid.y, alpha));
}

// cpu.line_fit: where a pixel lies along the line from the screen to F (0–1), and its distance
// from that line (to_pixel: C − S, line: F − S, spread: |F − S|²).
vec2 line_fit(vec3 to_pixel, vec3 line, float spread) {
    float along = to_pixel.x * line.x + to_pixel.y * line.y + to_pixel.z * line.z;
    float a = clamp(along / max(spread, COLOUR_TINY), 0.0, 1.0);
    vec3 off = to_pixel - a * line;
    return vec2(a, sqrt(off.x * off.x + off.y * off.y + off.z * off.z));
}

// cpu.shade_fit: the model's alpha and the distance its trust is read from (c: the pixel's
// colour, f: F, s: the screen; fit: the line's alpha and distance from it, line_fit). Where the
// pixel is u·F + v·S + (1 − u − v)·black, inside that triangle (soft edges over colour_shade)
// and more opaque there, or lit beyond F (u up to colour_lit·(1 − v), F as bright a colour, F
// and S apart: colour_lit_apart), its alpha moves toward 1 − v as far as it lies off the line.
vec2 shade_fit(vec3 c, vec3 f, vec3 s, vec2 fit) {
    float ff = f.x * f.x + f.y * f.y + f.z * f.z;
    float fs = f.x * s.x + f.y * s.y + f.z * s.z;
    float ss = s.x * s.x + s.y * s.y + s.z * s.z;
    float det = ff * ss - fs * fs;
    if (!(det > COLOUR_TINY)) {
        return fit;
    }
    float fc = f.x * c.x + f.y * c.y + f.z * c.z;
    float sc = s.x * c.x + s.y * c.y + s.z * c.z;
    float u = (fc * ss - sc * fs) / det;
    float v = (ff * sc - fs * fc) / det;
    vec3 off = c - u * f - v * s;
    float plane = sqrt(off.x * off.x + off.y * off.y + off.z * off.z);
    float shade = 1.0 - v;
    float dark = soft_step(0.0, colour_shade, shade - u);
    float lit = soft_step(0.0, colour_shade, colour_lit * shade - u)
        * soft_step(0.0, colour_shade, shade - u * max(f.x, max(f.y, f.z)))
        * soft_step(colour_lit_apart.x, colour_lit_apart.y, det / (ff * ss));
    float inside = soft_step(0.0, colour_shade, u) * soft_step(0.0, colour_shade, v)
        * (dark * soft_step(0.0, colour_shade, shade - fit.x) + (1.0 - dark) * lit);
    float off_line = soft_step(colour_residual.x, colour_residual.y, fit.y);
    return vec2(fit.x + inside * off_line * (shade - fit.x),
                fit.y - inside * max(fit.y - plane, 0.0));
}

// A partial pixel's clipped alpha moved toward where it lies on the line from the screen to the
// solid subject's mean colour F (sums: the window sums of solid_colour), as far as it is trusted
// (mix: colour_mix_at) and ramped in over colour_partial from 0 and from 1 (0 at exactly 0 and 1).
float colour_model_matte(float alpha, vec4 sums, vec3 rgb, vec3 screen_, float mix_) {
    vec3 fg = sums.yzw / max(sums.x, COLOUR_TINY);
    vec3 line = fg - screen_;
    float spread = line.x * line.x + line.y * line.y + line.z * line.z;
    vec2 fit = line_fit(rgb - screen_, line, spread);
    float residual = fit.y;
    vec2 shaded = shade_fit(rgb, fg, screen_, fit);
    float a = shaded.x;
    // cpu.spread_scale: on a pale screen the line counts against the screen's key excess.
    float sx = screen_excess(screen_, key);
    float scale = max(colour_pale_sq / (sx * sx), 1.0);
    float trust = soft_step(colour_support.x, colour_support.y, sums.x)
        * soft_step(colour_spread.x, colour_spread.y, spread * scale);
    trust *= (1.0 - soft_step(colour_residual.x, colour_residual.y, shaded.y))
        * (mix_ + fit_mix(residual, alpha));
    return alpha + trust * colour_partial_ramp(alpha) * (a - alpha);
}

// cpu.LocalColour at a partial pixel (alpha: its clipped matte): the solid subject's mean colour
// beside it and the weight its colour may follow it with (F's support times the partial ramp).
vec4 local_colour(float alpha, vec4 sums) {
    return vec4(sums.yzw / max(sums.x, COLOUR_TINY),
                soft_step(colour_support.x, colour_support.y, sums.x) * colour_partial_ramp(alpha));
}

// cpu.edge_colour: the unmixed premultiplied colour fg moved by local.w · min(1, EDGE_FOLLOW ·
// (1 − alpha)) toward the pixel unmixed again, along the line from the screen, to the local
// colour's key excess (less the despill's share of it above 0); 1/alpha of that unmix is the
// least over the other channels whose excess falls with it, at most 1/EDGE_ALPHA_MIN and
// 1/(EDGE_ALPHA_SHARE · alpha); that colour then moved toward the own unmix with its other
// channels shifted to the same excess, as far as the pixel lies off the line from the screen to
// the local colour (cpu.keep_key).
vec3 edge_colour(vec3 fg, float alpha, vec3 rgb, vec3 screen_, vec4 local, int k) {
    float excess = key_excess(local.rgb, k);
    float target = excess - spill * max(excess, 0.0);
    vec3 d = rgb - screen_;
    bool solved = false;
    float u = 0.0;
    for (int n = 1; n <= 2; n++) {
        int j = (k + n) % 3;
        float slope = d[k] - d[j];
        if (slope < -COLOUR_TINY) {
            float at = (target - (screen_[k] - screen_[j])) / slope;
            u = solved ? min(u, at) : at;
            solved = true;
        }
    }
    if (!solved) {
        return fg;
    }
    float weight = local.w * min(EDGE_FOLLOW * (1.0 - alpha), 1.0);
    u = clamp(u, 1.0, 1.0 / max(EDGE_ALPHA_MIN, EDGE_ALPHA_SHARE * alpha));
    vec3 straight = clamp(screen_ + d * u, 0.0, 1.0);
    // cpu.keep_key: toward the own unmix, its other channels shifted to the line's excess.
    vec3 own = fg / max(alpha, EDGE_ALPHA_MIN);
    float shift = key_excess(straight, k) - key_excess(own, k);
    vec3 kept = clamp(own - vec3(shift), 0.0, 1.0);
    kept[k] = clamp(own[k], 0.0, 1.0);
    float share = EDGE_KEEP_LESS + (EDGE_KEEP_MORE - EDGE_KEEP_LESS) *
        soft_step(-EDGE_KEEP_RAMP, EDGE_KEEP_RAMP, shift);
    vec3 beside = local.rgb - screen_;
    float residual = line_fit(
        d, beside, beside.x * beside.x + beside.y * beside.y + beside.z * beside.z).y;
    share *= soft_step(EDGE_KEEP_RESIDUAL_LO, EDGE_KEEP_RESIDUAL_HI, residual);
    straight += share * (kept - straight);
    return fg + weight * (alpha * straight - fg);
}

// --- 7. unmix and despill -----------------------------------------------------------------

// Where spill may be removed: screen hues, weak colours, and anything near the screen.
// cpu.spill_gate in two halves: the key pass stores colour_gate (its membership terms), the
// composite adds near_screen, cpu's _window_reduce(1 − alpha, spill_radius, max), i.e.
// 1 − (the window's min of alpha). max is exact, so the split changes nothing.
float colour_gate(float hue_m, float sat) {
    float weak = 1.0 - soft_step(sat_min, sat_min + sat_softness, sat);
    return max(hue_m, weak);
}

float spill_gate(float colour_gate_, float near_screen) {
    return max(colour_gate_, near_screen);
}

// Premultiplied foreground: the screen's share removed, the edge's colour taken toward the
// subject beside it (edge_colour; local.w is 0 where there is none), then its spill.
vec3 unmix_despill(vec3 rgb, float alpha, float gate, vec3 screen_, vec4 local, int k) {
    vec3 fg = rgb - (1.0 - alpha) * screen_;
    fg = max(fg, 0.0);
    fg = min(fg, vec3(alpha));
    if (local.w > 0.0) {
        fg = edge_colour(fg, alpha, rgb, screen_, local, k);
    }
    float spill_amount = max(key_excess(fg, k), 0.0);
    fg[k] -= spill * gate * spill_amount;
    return fg;
}
