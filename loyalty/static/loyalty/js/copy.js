// Copy buttons: <button data-copy-from="field-id" data-copy-status="status-id" data-copied-text="..."
// data-failed-text="..." hidden>; the status element (role="status") announces the result.
// Without JavaScript the buttons stay hidden and the field can be selected and copied by hand.
(function () {
  "use strict";

  function copyWithSelection(field) {
    field.focus();
    field.select();
    return document.execCommand && document.execCommand("copy");
  }

  function copy(field) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(field.value).catch(function () {
        if (!copyWithSelection(field)) {
          throw new Error("copy failed");
        }
      });
    }
    return copyWithSelection(field) ? Promise.resolve() : Promise.reject(new Error("copy failed"));
  }

  document.querySelectorAll("[data-copy-from]").forEach(function (button) {
    var field = document.getElementById(button.dataset.copyFrom);
    var status = document.getElementById(button.dataset.copyStatus);
    if (!field || !status) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      copy(field).then(
        function () { status.textContent = button.dataset.copiedText; },
        function () { status.textContent = button.dataset.failedText; }
      );
    });
  });
})();
