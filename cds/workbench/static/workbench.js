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

// The form: a question whose enableWhen its answers do not meet is hidden (the server leaves
// its answer out in any case; without script every question shows, with a hint).
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form.questionnaire");
  if (!form) return;
  const answer = (question) => {
    const checked = form.querySelector(`input[name="q-${question}"]:checked`);
    return checked ? checked.value : "";
  };
  const update = () => {
    for (const el of form.querySelectorAll("[data-enable-when]")) {
      const conditions = JSON.parse(el.dataset.enableWhen);
      const held = conditions.map((c) => answer(c.question) === c.answer);
      el.hidden = !(el.dataset.enableBehavior === "all" ? held.every(Boolean) : held.some(Boolean));
    }
  };
  form.addEventListener("change", update);
  update();
});
