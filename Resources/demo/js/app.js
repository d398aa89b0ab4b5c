// Fetches the docs listing as JSON, so the dashboard shows a second request from the page.
const counter = document.getElementById("counter");
fetch("docs/?format=json")
  .then((response) => response.json())
  .then((listing) => {
    counter.textContent = `JavaScript ran: docs/ holds ${listing.entries.length} entries.`;
  })
  .catch((error) => {
    counter.textContent = `JavaScript ran, but the listing failed: ${error}`;
  });
