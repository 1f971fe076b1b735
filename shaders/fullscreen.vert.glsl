#version 330 core
// One triangle that covers the viewport; the fragment passes address texels with gl_FragCoord,
// so no attributes or varyings are needed. Texture row 0 is image row 0 (the top of the
// picture, as in numpy); nothing is flipped anywhere in the chain.

void main() {
    vec2 corner = vec2((gl_VertexID << 1) & 2, gl_VertexID & 2);
    gl_Position = vec4(corner * 2.0 - 1.0, 0.0, 1.0);
}
