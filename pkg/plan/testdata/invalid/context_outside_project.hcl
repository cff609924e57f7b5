# want: 3:13 | Path outside the project | is outside
image "app" {
  context = ".."
}
