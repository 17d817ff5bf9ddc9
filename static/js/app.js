// Progressive enhancement only: every page works without this script.
const form = document.querySelector(".contact-form");

function toggleConditional(root) {
  for (const block of root.querySelectorAll("[data-show-when]")) {
    const [name, value] = block.dataset.showWhen.split("=");
    const control = root.querySelector(`[name="${name}"]`);
    if (control) block.hidden = control.value !== value;
  }
}

if (form) {
  toggleConditional(form);
  form.addEventListener("change", () => toggleConditional(form));
}

for (const button of document.querySelectorAll("[data-confirm]")) {
  button.addEventListener("click", (event) => {
    if (!window.confirm(button.dataset.confirm)) event.preventDefault();
  });
}

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
}
