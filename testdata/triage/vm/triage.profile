profile triage-enforce {
  /bin/** mrix,
  /etc/hostname r,
  /proc/** r,
}
profile triage-complain flags=(complain) {
  /bin/** mrix,
}
