// Upload progress for evidence forms sent with htmx (hx-encoding=multipart/form-data).
document.addEventListener("htmx:xhr:progress", function (event) {
  const form = event.target.closest("form");
  const bar = form && form.querySelector("progress.upload-progress");
  if (bar && event.detail.lengthComputable) {
    bar.hidden = false;
    bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
  }
});
