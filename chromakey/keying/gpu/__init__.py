"""The GPU keyer: the numpy reference's passes as GLSL fragment shaders, through moderngl.

The frame stays on the GPU from upload to output. Y, U and V go up as three 8-bit integer
textures (a PyAV plane with padded rows goes up without a copy), every pass reads earlier
passes' textures, and only :meth:`GpuKeyer.render` reads back.

The passes are data: :func:`pass_graph` lists them for a KeyerParams (program, render targets,
inputs, specialising defines), the keyer draws exactly that list, and :func:`pass_table` /
:func:`frame_bytes` report what it writes. At default settings there are seven, and an eighth
first for a frame with subsampled chroma (4:2:0, 4:2:2):

    chroma     one texel per chroma sample: slopes of U and V against luma over 3×3 chroma
    guide      samples, and the chroma-grid luma (RGBA32F); decode.glsl upsamples chroma
               guided by luma with them (cpu.guided_chroma)
    key        planes → luma, membership, share of the screen's colour, can_mix (RGBA32F),
               reach_seed (R32F), colour_gate (R8)                       (screen map: cpu.screen_at)
    reach      the seeds' max over 5×5 where a pixel can be a mix → luma + raw matte (RG32F),
               and the colour model's solid weight and weighted colour (RGBA32F)
               (cpu.reach_membership; a pale screen's window, sat_max < 1, has no reach: the
               key pass writes luma + raw matte and those terms itself)
    guide      9×9 window sums → (a, b, w) → their row sums (RG32F + R32F)
    matte      column sums → the guided matte (R32F)
    colour     the solid weight and weighted colour summed along rows over 15 (RGBA32F)
    rows
    colour     edge test and clip over a 5×5 window of the matte (refine.glsl); on the pixels
    model      left partial, the column sums → the solid subject's colour beside them, and the
               local colour model's alpha (cpu.colour_model_matte) → the matte (R32F), and
               that colour with its weight (cpu.LocalColour, RGBA16F)
    composite  decode again; the spill window's min of the matte; spill gate, unmix, the
               edge colour (cpu.edge_colour), despill, over → RGBA8

Other settings add passes only for what they need: choke or feather (window_reduce rows +
columns, Gaussian rows + columns on the colour model's matte), a spill_radius above
FUSED_SPILL_RADIUS (a row pass for the spill window's min), a guide_radius above
FUSED_GUIDE_RADIUS (guide_rows / guide_cols, separable); guide_radius 0 drops guide and matte.
Formats are the narrowest that keep parity with the reference (tests/test_gpu_parity.py): float32
only for the guided filter's inputs and sums, whose variance and intercept cancel (and the key
pass's terms of the raw matte, where membership reaches), for the colour model's terms and sums,
whose ratio is the subject's colour, for the matte, which the straight-RGBA output compares with
ALPHA_VISIBLE, and for the chroma guide, whose slopes multiply luma's detail.

The screen map (calibration.ScreenMap, a few thousand blocks) goes up each frame as a small
RGB32F texture; key, colour model and composite interpolate it with texelFetch and numpy's
own weights.

Every pass is the same fullscreen triangle; the shaders address texels with gl_FragCoord and
texelFetch, so texture row 0 is image row 0 (the top of the picture, as in numpy). A host that
draws :meth:`GpuKeyer.render_texture` with the usual bottom-up texture coordinates flips v.

All GL calls must come from the thread that owns the context.
"""

from .context import GL_REQUIRE, create_context, software_renderer
from .glsl import ShaderError
from .keyer import GpuKeyer
from .passes import (
    CARRIED,
    CHROMA_GRID,
    FORMATS,
    FUSED_GUIDE_RADIUS,
    FUSED_SPILL_RADIUS,
    MAX_FEATHER_TAPS,
    TARGETS,
    GpuPass,
    format_bytes,
    frame_bytes,
    pass_graph,
    pass_table,
    shader_defines,
)
from .timer import FrameTimes, PassTimer, mean_ms
from .uploads import FIRST_INPUT_UNIT

__all__ = [
    "CARRIED",
    "CHROMA_GRID",
    "FIRST_INPUT_UNIT",
    "FORMATS",
    "FrameTimes",
    "FUSED_GUIDE_RADIUS",
    "FUSED_SPILL_RADIUS",
    "GL_REQUIRE",
    "GpuKeyer",
    "GpuPass",
    "MAX_FEATHER_TAPS",
    "PassTimer",
    "ShaderError",
    "TARGETS",
    "create_context",
    "format_bytes",
    "frame_bytes",
    "mean_ms",
    "pass_graph",
    "pass_table",
    "shader_defines",
    "software_renderer",
]
