// The keyer's settings as uniforms named after the KeyerParams fields
// (chromakey/core/params.py), plus the few values the reference derives from them (hue_center,
// hue_width: KeyerParams properties; key: cpu.key_channel; the screen map: cpu.screen_at).
// Declared once here; a pass that does not use one lets the compiler drop it.

uniform float hue_center;      // KeyerParams.hue_center (degrees)
uniform float hue_width;       // KeyerParams.hue_width (degrees)
uniform float hue_softness;
uniform float sat_min;
uniform float sat_softness;
uniform float sat_max;
uniform float dark_guard;
uniform float bright_guard;
uniform float clip_black;
uniform float clip_white;
uniform float edge_tolerance;
uniform int guide_radius;
uniform float guide_eps;
uniform float guide_norm;      // F32(1 / (2·guide_radius + 1)²), as cpu.guided_matte scales sums
uniform float spill;

// Membership's reach (cpu.REACH_SHARE, cpu.REACH_MIX, cpu.REACH_GAMUT): soft ramps (e0, e1),
// set from the reference's values (uniforms, not #defines: their ends 0.0 and 0.5 are also
// plain arithmetic in the shaders). Its radius, cpu.member_reach(p), is the reach pass's
// REACH_RADIUS #define; 0 draws no reach pass.
uniform vec2 reach_share;
uniform vec2 reach_mix;
uniform vec2 reach_gamut;

// The local colour model's ramps and mix (cpu.COLOUR_SOLID, cpu.COLOUR_SUPPORT, cpu.COLOUR_SPREAD,
// cpu.COLOUR_RESIDUAL, cpu.COLOUR_MIX, cpu.COLOUR_PARTIAL), uniforms for the same reason (0, 1,
// 2 and 0.5 among them); its radius and what it divides by at the least are #defines
// (COLOUR_RADIUS, COLOUR_TINY).
uniform vec2 colour_solid;
uniform vec2 colour_support;
uniform vec2 colour_spread;
uniform vec2 colour_residual;
uniform float colour_mix;
uniform float colour_partial;

uniform int key;               // cpu.key_channel(p): 0 red, 1 green, 2 blue
uniform vec3 luma_w;           // cpu.luma_weights(frame): (Kr, Kg, Kb) of the frame's matrix (key pass)
uniform sampler2D screen_map;  // ScreenMap.colors: RGB32F, one texel per block (texel row 0 = block row 0)
uniform int screen_cell;       // ScreenMap.cell: block size in pixels
