#version 330 core
// The preview window's triangle over its viewport (fullscreen.vert.glsl's), with texture
// coordinates: the window shows the keyed picture scaled, so it samples rather than fetches.

out vec2 uv;

void main() {
    vec2 corner = vec2((gl_VertexID << 1) & 2, gl_VertexID & 2);  // (0,0) (2,0) (0,2)
    uv = corner;
    gl_Position = vec4(corner * 2.0 - 1.0, 0.0, 1.0);
}
