// The session's expiry in the reader's own time zone. The server cannot know that zone, so the page
// carries the instant in <time datetime> and UTC as text; without this script that text stays.
// A file of this site's own, since the Content-Security-Policy allows no inline script.
for (const time of document.querySelectorAll('time[data-local-time]')) {
  const at = new Date(time.dateTime)
  if (Number.isNaN(at.getTime())) continue
  time.title = time.textContent
  time.textContent = at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', timeZoneName: 'short' })
}
