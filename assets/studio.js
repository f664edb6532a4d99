// Studio: camera preview, WHIP publishing, question queue, layout, go live / end. No build step, no framework.
(function () {
  "use strict";
  var main = document.getElementById("main");
  var slug = main.getAttribute("data-slug");
  var api = "/api/studio/" + encodeURIComponent(slug);
  var $ = function (id) { return document.getElementById(id); };
  var stream = null, pc = null, whipLocation = null, whip = null, state = null;

  function log(text) {
    var line = document.createElement("div");
    line.textContent = new Date().toLocaleTimeString() + "  " + text;
    $("log").prepend(line);
  }

  function post(path, body) {
    return fetch(api + path, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body === undefined ? {} : body)
    }).then(function (r) {
      if (!r.ok) return r.json().then(function (e) { throw new Error(e.message || r.status); });
      return r.status === 204 ? null : r.json();
    });
  }

  function render() {
    $("title").textContent = state.title;
    var live = state.live.live;
    $("state").textContent = live ? "LIVE" : state.state;
    $("state").className = "badge" + (live ? " live" : "");
    $("golive").disabled = !stream || state.state === "ended" || state.state === "published" || (live && pc !== null);
    $("end").disabled = !live;
    $("clear").disabled = !live;
    var layouts = $("layouts");
    layouts.innerHTML = "";
    state.layouts.forEach(function (name) {
      var b = document.createElement("button");
      b.textContent = name;
      b.setAttribute("aria-pressed", String(state.live.layout === name));
      b.disabled = !live;
      b.addEventListener("click", function () { post("/layout", { layout: name }).catch(function (e) { log(e.message); }); });
      layouts.appendChild(b);
    });
    var queue = $("queue");
    queue.innerHTML = "";
    state.queue.forEach(function (q) {
      var li = document.createElement("li");
      li.className = (state.live.on_air === q.id ? "on-air " : "") + q.status;
      var text = document.createElement("p");
      text.textContent = q.text;
      var who = document.createElement("p");
      who.className = "meta";
      who.textContent = (q.asker ? q.asker + " · " : "") + (q.status === "answered" ? "beantwortet / answered" : "offen / open");
      var b = document.createElement("button");
      b.textContent = "Diese Frage beantworten / answer this";
      b.setAttribute("data-question", q.id);
      b.disabled = !live;
      b.addEventListener("click", function () {
        post("/answer", { question_id: q.id }).then(function (r) { log("Frage " + q.id + " bei " + (r.at_ms / 1000).toFixed(1) + " s"); refresh(); })
          .catch(function (e) { log(e.message); });
      });
      li.append(text, who, b);
      queue.appendChild(li);
    });
  }

  function refresh() {
    return fetch(api, { credentials: "same-origin" }).then(function (r) { return r.json(); })
      .then(function (s) { state = s; whip = s.whip; render(); });
  }

  function waitForIce(pc) {
    return new Promise(function (resolve) {
      if (pc.iceGatheringState === "complete") return resolve();
      var done = function () { if (pc.iceGatheringState === "complete") resolve(); };
      pc.addEventListener("icegatheringstatechange", done);
      setTimeout(resolve, 2000);
    });
  }

  function publish() {
    pc = new RTCPeerConnection();
    pc.addEventListener("iceconnectionstatechange", function () {
      var st = pc ? pc.iceConnectionState : "closed";
      if (st === "failed" || st === "disconnected") log("Verbindung gestört / connection " + st);
      else if (st === "connected") log("Verbindung steht / connection up");
    });
    stream.getTracks().forEach(function (t) { pc.addTransceiver(t, { direction: "sendonly", streams: [stream] }); });
    return pc.createOffer().then(function (o) { return pc.setLocalDescription(o); })
      .then(function () { return waitForIce(pc); })
      .then(function () {
        return fetch(whip.url, {
          method: "POST",
          headers: { "Content-Type": "application/sdp", "Authorization": "Bearer " + whip.token },
          body: pc.localDescription.sdp
        });
      })
      .then(function (r) {
        if (r.status !== 201) return r.text().then(function (t) { throw new Error("WHIP " + r.status + ": " + t); });
        whipLocation = r.headers.get("Location");
        return r.text();
      })
      .then(function (answer) { return pc.setRemoteDescription({ type: "answer", sdp: answer }); })
      .then(function () { log("Kamera ist auf Sendung / camera on air"); });
  }

  $("camera").addEventListener("click", function () {
    navigator.mediaDevices.getUserMedia({ video: { width: 1280, height: 720 }, audio: true }).then(function (s) {
      stream = s;
      $("preview").srcObject = s;
      $("camera").disabled = true;
      log("Kamera bereit / camera ready");
      render();
    }).catch(function (e) { log("Kamera: " + e.message); });
  });

  $("golive").addEventListener("click", function () {
    $("golive").disabled = true;
    var start = state.live.live ? Promise.resolve() : post("/start");
    start.then(refresh).then(publish).then(refresh).catch(function (e) { log(e.message); pc = null; render(); });
  });

  $("end").addEventListener("click", function () {
    if (!window.confirm("Sendung wirklich beenden? / End the broadcast?")) return;
    var stop = whipLocation ? fetch(whipLocation, { method: "DELETE", headers: { "Authorization": "Bearer " + whip.token } }) : Promise.resolve();
    stop.catch(function () {}).then(function () {
      if (pc) pc.close();
      pc = null; whipLocation = null;
      return post("/end");
    }).then(function (r) { log("Beendet nach / ended after " + (r.duration_ms / 1000).toFixed(1) + " s"); return refresh(); })
      .catch(function (e) { log(e.message); });
  });

  $("clear").addEventListener("click", function () { post("/answer", { question_id: null }).then(refresh).catch(function (e) { log(e.message); }); });

  var events = new EventSource(api + "/events");
  events.addEventListener("live", function (m) {
    var e = JSON.parse(m.data);
    if (e.type === "loudness") {
      $("loudness").textContent = (e.shortterm_lufs === null ? "Stille / silence" : e.shortterm_lufs.toFixed(1) + " LUFS") +
        " · Sendung / program " + (e.integrated_lufs === null ? "–" : e.integrated_lufs.toFixed(1) + " LUFS") +
        " · Anpassung / gain " + (e.gain_db > 0 ? "+" : "") + e.gain_db.toFixed(1) + " dB";
      return;
    }
    if (e.type === "source_stalled") { log("Kein Bild von " + e.source + " – Platzhalter auf Sendung / no picture from " + e.source + ", slate on air"); return; }
    if (e.type === "source_resumed") { log("Bild von " + e.source + " ist zurück / picture from " + e.source + " is back"); return; }
    log(e.type + (e.source ? " " + e.source : "") + (e.url ? " " + e.url : "") + (e.message ? ": " + e.message : ""));
    refresh();
  });

  // Publishing: jobs with progress, last error and a retry button; trim points.
  var JOB_NAMES = {
    publish_local: "Stadtseite / town site", publish_s3: "S3-Speicher / S3 storage",
    publish_youtube: "YouTube", notify_askers: "Mails an Fragende / askers' mails"
  };
  var STATES = { queued: "wartet / queued", running: "läuft / running", done: "fertig / done", failed: "fehlgeschlagen / failed" };

  function clock(ms) {
    var s = Math.floor(ms / 1000), m = Math.floor(s / 60);
    return m + ":" + String(s % 60).padStart(2, "0");
  }
  function parseClock(text) {
    text = text.trim();
    if (!text) return null;
    var parts = text.split(":"), sec = 0;
    if (parts.length > 3) return NaN;
    for (var i = 0; i < parts.length; i++) {
      var v = Number(parts[i]);
      if (parts[i] === "" || !isFinite(v) || v < 0 || (i > 0 && v >= 60)) return NaN;
      sec = sec * 60 + v;
    }
    return Math.round(sec * 1000);
  }

  function renderJobs(p) {
    var body = $("jobs");
    body.innerHTML = "";
    p.jobs.forEach(function (j) {
      var tr = document.createElement("tr");
      var name = document.createElement("th");
      name.scope = "row";
      name.textContent = JOB_NAMES[j.kind] || j.kind;
      var st = document.createElement("td");
      st.textContent = (STATES[j.state] || j.state) + (j.attempts > 1 ? " (" + j.attempts + "/" + j.max_attempts + ")" : "");
      if (j.state === "queued" && j.last_error) st.textContent += " · " + new Date(j.retry_at).toLocaleString();
      var prog = document.createElement("td");
      var bar = document.createElement("progress");
      bar.max = 1; bar.value = j.state === "done" ? 1 : j.progress;
      bar.setAttribute("aria-label", (JOB_NAMES[j.kind] || j.kind) + " " + Math.round(bar.value * 100) + " %");
      prog.appendChild(bar);
      var err = document.createElement("td");
      err.textContent = j.last_error || "";
      var act = document.createElement("td");
      var b = document.createElement("button");
      b.textContent = "Erneut versuchen / retry";
      b.disabled = j.state === "running";
      b.setAttribute("data-job", j.id);
      b.addEventListener("click", function () {
        post("/jobs/" + j.id + "/retry").then(function () { log((JOB_NAMES[j.kind] || j.kind) + ": erneut / again"); refreshJobs(); })
          .catch(function (e) { log(e.message); });
      });
      act.appendChild(b);
      tr.append(name, st, prog, err, act);
      body.appendChild(tr);
    });
    var pub = $("published");
    pub.innerHTML = "";
    Object.keys(p.published).forEach(function (t) {
      var li = document.createElement("li"), a = document.createElement("a");
      a.href = p.published[t]; a.textContent = t + ": " + p.published[t];
      li.appendChild(a); pub.appendChild(li);
    });
    if (p.trim && document.activeElement !== $("trim-in") && document.activeElement !== $("trim-out")) {
      $("trim-in").value = clock(p.trim.in_ms);
      $("trim-out").value = p.trim.out_ms === null ? "" : clock(p.trim.out_ms);
    }
  }

  function refreshJobs() {
    return fetch(api + "/jobs", { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(renderJobs)
      .catch(function () {});
  }

  $("trim").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var tin = parseClock($("trim-in").value), tout = parseClock($("trim-out").value);
    if (isNaN(tin) || isNaN(tout)) { log("Zeit bitte als m:ss / time as m:ss"); return; }
    post("/trim", { in_ms: tin || 0, out_ms: tout }).then(function (p) { log("Schnitt gespeichert / trim saved"); renderJobs(p); })
      .catch(function (e) { log(e.message); });
  });
  $("trim-clear").addEventListener("click", function () {
    $("trim-in").value = ""; $("trim-out").value = "";
    post("/trim", null).then(function (p) { log("Schnitt aufgehoben / trim cleared"); renderJobs(p); })
      .catch(function (e) { log(e.message); });
  });

  refresh();
  refreshJobs();
  setInterval(refreshJobs, 2000);
})();
