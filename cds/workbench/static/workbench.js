// The workbench's only script: optional conveniences (the pages work without it).
// Loads a chosen JSON file into the case's textarea.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  for (const el of document.querySelectorAll(".js-only")) el.hidden = false;
  for (const input of document.querySelectorAll("input[type=file][data-target]")) {
    input.addEventListener("change", async () => {
      const file = input.files && input.files[0];
      const target = document.getElementById(input.dataset.target);
      if (file && target) target.value = await file.text();
    });
  }
});
