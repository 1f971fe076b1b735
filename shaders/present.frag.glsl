#version 330 core
// The preview window's picture: the keyed output, its matte, or straight RGBA over a checker.

in vec2 uv;
out vec4 color;

uniform sampler2D picture;
uniform int mode;  // 0 opaque composite, 1 matte (alpha as grey), 2 straight RGBA over a checker

void main() {
    vec4 c = texture(picture, vec2(uv.x, 1.0 - uv.y));  // texture row 0 is the top
    if (mode == 1) {
        color = vec4(vec3(c.a), 1.0);
    } else if (mode == 2) {
        vec2 cell = floor(gl_FragCoord.xy / 16.0);
        float check = mod(cell.x + cell.y, 2.0) < 1.0 ? 0.4 : 1.0 - 0.4;  // dark and light greys
        color = vec4(mix(vec3(check), c.rgb, c.a), 1.0);
    } else {
        color = vec4(c.rgb, 1.0);
    }
}
