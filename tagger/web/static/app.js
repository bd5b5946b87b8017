// tagger web pages: upload with progress, live job status, transcript filters and audio seeking.
// Plain JavaScript, no build step; the CSRF token comes from <body data-csrf>.
"use strict";

const csrf = () => document.body.dataset.csrf;

function setupUpload() {
  const form = document.getElementById("upload-form");
  if (!form) return;
  const input = document.getElementById("file");
  const drop = document.getElementById("drop");
  const text = document.getElementById("drop-text");
  const bar = document.getElementById("upload-progress");
  const status = document.getElementById("upload-status");
  const maxBytes = Number(form.dataset.maxMb) * 1024 * 1024;
  const show = () => { if (input.files.length) text.textContent = input.files[0].name; };
  input.addEventListener("change", show);
  ["dragenter", "dragover"].forEach((ev) => drop.addEventListener(ev, (e) => {
    e.preventDefault(); drop.classList.add("over");
  }));
  ["dragleave", "drop"].forEach((ev) => drop.addEventListener(ev, (e) => {
    e.preventDefault(); drop.classList.remove("over");
  }));
  drop.addEventListener("drop", (e) => {
    if (e.dataTransfer.files.length) { input.files = e.dataTransfer.files; show(); }
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const file = input.files[0];
    if (!file) { status.textContent = "Choose a file first."; return; }
    if (file.size > maxBytes) { status.textContent = "The file is over the upload limit."; return; }
    const data = new FormData(form);
    data.delete("csrf_token");
    data.set("deidentify", form.querySelector("[name=deidentify]").checked ? "true" : "false");
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/sessions");
    xhr.setRequestHeader("X-CSRF-Token", csrf());
    bar.hidden = false;
    xhr.upload.onprogress = (p) => {
      if (p.lengthComputable) {
        bar.value = Math.round((100 * p.loaded) / p.total);
        status.textContent = `Uploading… ${bar.value}%`;
      }
    };
    xhr.onload = () => {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch (err) { /* not JSON */ }
      if (xhr.status === 201) {
        status.textContent = "Uploaded; processing…";
        window.location.href = `/sessions/${body.id}`;
      } else {
        bar.hidden = true;
        status.textContent = `Upload refused: ${body.detail || xhr.statusText}`;
        status.classList.add("error");
      }
    };
    xhr.onerror = () => { status.textContent = "The upload failed (network error); try again."; };
    status.classList.remove("error");
    xhr.send(data);
  });
}

function pollList() {
  const table = document.getElementById("sessions");
  if (!table || !table.dataset.poll) return;
  const tick = async () => {
    const busy = table.querySelector("tr[data-status=queued], tr[data-status=running]");
    if (!busy) return;
    const resp = await fetch(table.dataset.poll, { credentials: "same-origin" });
    if (resp.ok) {
      for (const s of await resp.json()) {
        const row = table.querySelector(`tr[data-id="${s.id}"]`);
        if (!row) continue;
        row.dataset.status = s.status;
        const badge = row.querySelector(".badge");
        badge.textContent = s.status; badge.className = `badge ${s.status}`;
        const bar = row.querySelector("progress");
        bar.value = s.progress; bar.hidden = s.status !== "running";
        row.querySelector(".stage").textContent = s.status === "running" ? s.stage : (s.error || "");
      }
    }
    setTimeout(tick, 1500);
  };
  setTimeout(tick, 1000);
}

function pollJob() {
  const box = document.getElementById("job");
  if (!box || box.dataset.status === "failed") return;
  const tick = async () => {
    const resp = await fetch(box.dataset.poll, { credentials: "same-origin" });
    if (resp.ok) {
      const s = await resp.json();
      if (s.status === "done" || s.status === "failed") { window.location.reload(); return; }
      const bar = box.querySelector("progress");
      if (bar) bar.value = s.progress;
      const badge = box.querySelector(".badge");
      badge.textContent = s.status; badge.className = `badge ${s.status}`;
      box.querySelector(".stage").textContent = s.stage;
    }
    setTimeout(tick, 1000);
  };
  setTimeout(tick, 1000);
}

function setupTranscript() {
  const player = document.getElementById("player");
  document.querySelectorAll(".line").forEach((li) => {
    const play = () => {
      document.querySelectorAll(".line.current").forEach((x) => x.classList.remove("current"));
      li.classList.add("current");
      if (player && li.dataset.start !== undefined) {
        player.currentTime = Number(li.dataset.start);
        player.play().catch(() => {});
      }
    };
    li.addEventListener("click", play);
    li.addEventListener("keydown", (e) => { if (e.key === "Enter") play(); });
  });
  document.querySelectorAll(".filter").forEach((btn) => btn.addEventListener("click", () => {
    document.querySelectorAll(".filter").forEach((b) => b.classList.toggle("active", b === btn));
    const fam = btn.dataset.family;
    document.querySelectorAll(".line").forEach((li) => {
      li.hidden = fam !== "" && !li.dataset.families.split(" ").includes(fam);
    });
  }));
  document.querySelectorAll("a.ev").forEach((a) => a.addEventListener("click", () => {
    const li = document.getElementById(`u-${a.dataset.utt}`);
    if (!li) return;
    li.hidden = false;
    document.querySelectorAll(".line.current").forEach((x) => x.classList.remove("current"));
    li.classList.add("current");
  }));
}

function setupConfirm() {
  document.querySelectorAll("form.confirm").forEach((f) => f.addEventListener("submit", (e) => {
    const dirty = f.classList.contains("sign") && document.getElementById("note-form").dataset.dirty;
    const msg = (dirty ? "You have unsaved edits; they will not be signed. " : "") + f.dataset.confirm;
    if (!window.confirm(msg)) e.preventDefault();
  }));
  const note = document.getElementById("note-form");
  if (note) note.addEventListener("input", () => { note.dataset.dirty = "1"; });
}

document.addEventListener("DOMContentLoaded", () => {
  setupUpload(); pollList(); pollJob(); setupTranscript(); setupConfirm();
});
