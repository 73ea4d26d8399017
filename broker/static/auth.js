// Progressive enhancement only: the pages work without it.
// Tapping the captcha image loads a new one (a new challenge replaces the old in the session).
document.addEventListener("click", function (event) {
  var img = event.target;
  if (img && img.id === "captcha-image") {
    img.src = img.src.split("?")[0] + "?r=" + Date.now();
    var input = document.getElementById("captcha");
    if (input) { input.value = ""; input.focus(); }
  }
});
