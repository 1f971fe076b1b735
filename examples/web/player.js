// Plays chromakey's packed-alpha video (twice the width: colour left, alpha right as grey,
// white opaque) into a transparent WebGL canvas. The video comes from a WHEP endpoint
// (POST an SDP offer, read the answer; DELETE the session when done) or, for trying it
// without a server, from a packed file (chromakey render ... -b transparent --pack-alpha).
// Plain browser JavaScript: no build step, no dependency.

const VERTEX = `
attribute vec2 corner;
varying vec2 uv;
void main() {
  uv = vec2((corner.x + 1.0) * 0.5, (1.0 - corner.y) * 0.5);
  gl_Position = vec4(corner, 0.0, 1.0);
}`;

// The colour from the left half, the alpha from the right half's grey at the same place.
// The canvas is premultiplied (WebGL's default), so the colour goes out multiplied by alpha.
const FRAGMENT = `
precision mediump float;
uniform sampler2D picture;
varying vec2 uv;
void main() {
  vec3 colour = texture2D(picture, vec2(uv.x * 0.5, uv.y)).rgb;
  vec3 grey = texture2D(picture, vec2(0.5 + uv.x * 0.5, uv.y)).rgb;
  float alpha = clamp(dot(grey, vec3(1.0 / 3.0)), 0.0, 1.0);
  gl_FragColor = vec4(colour * alpha, alpha);
}`;

function compile(gl, kind, text) {
  const shader = gl.createShader(kind);
  gl.shaderSource(shader, text);
  gl.compileShader(shader);
  if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) {
    throw new Error(gl.getShaderInfoLog(shader));
  }
  return shader;
}

export class PackedAlphaPlayer {
  constructor(canvas) {
    this.canvas = canvas;
    const gl = canvas.getContext('webgl', {alpha: true, premultipliedAlpha: true,
                                           preserveDrawingBuffer: true});
    if (!gl) throw new Error('WebGL is not available');
    this.gl = gl;
    const program = gl.createProgram();
    gl.attachShader(program, compile(gl, gl.VERTEX_SHADER, VERTEX));
    gl.attachShader(program, compile(gl, gl.FRAGMENT_SHADER, FRAGMENT));
    gl.linkProgram(program);
    if (!gl.getProgramParameter(program, gl.LINK_STATUS)) {
      throw new Error(gl.getProgramInfoLog(program));
    }
    gl.useProgram(program);
    const quad = gl.createBuffer();
    gl.bindBuffer(gl.ARRAY_BUFFER, quad);
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 1, -1, -1, 1, 1, 1]), gl.STATIC_DRAW);
    const corner = gl.getAttribLocation(program, 'corner');
    gl.enableVertexAttribArray(corner);
    gl.vertexAttribPointer(corner, 2, gl.FLOAT, false, 0, 0);
    this.texture = gl.createTexture();
    gl.bindTexture(gl.TEXTURE_2D, this.texture);
    // Video sizes are rarely powers of two: no mipmaps, clamped edges.
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.LINEAR);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.LINEAR);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
    this.video = document.createElement('video');
    this.video.muted = true;
    this.video.playsInline = true;
    this.video.loop = false;
    this.frames = 0;
    this.onframe = null;
  }

  // One video frame into the canvas (the canvas takes the picture's half width).
  draw() {
    const {gl, video, canvas} = this;
    const w = video.videoWidth >> 1, h = video.videoHeight;
    if (!w || !h) return;
    if (canvas.width !== w || canvas.height !== h) {
      canvas.width = w;
      canvas.height = h;
    }
    gl.viewport(0, 0, w, h);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGB, gl.RGB, gl.UNSIGNED_BYTE, video);
    gl.clearColor(0, 0, 0, 0);
    gl.clear(gl.COLOR_BUFFER_BIT);
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
    this.frames += 1;
    if (this.onframe) this.onframe(this.frames);
  }

  _loop() {
    const step = () => {
      this.draw();
      this.video.requestVideoFrameCallback(step);
    };
    this.video.requestVideoFrameCallback(step);
  }

  // A packed file (loops): for trying the page without a WHEP server.
  async playFile(url) {
    this.video.src = url;
    this.video.loop = true;
    this._loop();
    await this.video.play();
  }

  // The standard WHEP flow: a receive-only offer POSTed as application/sdp, the answer in
  // the response (201), the session URL in Location (DELETE ends it).
  async playWhep(url, token) {
    const pc = new RTCPeerConnection({iceServers: []});
    this.pc = pc;
    pc.addTransceiver('video', {direction: 'recvonly'});
    pc.addTransceiver('audio', {direction: 'recvonly'});
    const media = new MediaStream();
    pc.ontrack = (event) => {
      media.addTrack(event.track);
      if (this.video.srcObject !== media) this.video.srcObject = media;
    };
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((done) => {
      if (pc.iceGatheringState === 'complete') return done();
      pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && done();
    });
    const headers = {'Content-Type': 'application/sdp'};
    if (token) headers.Authorization = 'Bearer ' + token;
    const response = await fetch(url, {method: 'POST', headers, body: pc.localDescription.sdp});
    if (response.status !== 201) {
      throw new Error(`WHEP ${url}: ${response.status} ${await response.text()}`);
    }
    const location = response.headers.get('Location');
    this.session = location ? new URL(location, url).href : null;
    this.headers = headers;
    await pc.setRemoteDescription({type: 'answer', sdp: await response.text()});
    this._loop();
    await this.video.play();
  }

  async stop() {
    this.video.pause();
    if (this.pc) this.pc.close();
    if (this.session) {
      await fetch(this.session, {method: 'DELETE', headers: this.headers}).catch(() => {});
    }
  }
}
