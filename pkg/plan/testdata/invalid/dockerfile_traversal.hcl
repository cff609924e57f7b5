# want: 4:16 | Path outside the project | is outside
image "app" {
  context    = "empty"
  dockerfile = "../../../../../../../../../etc/hostname"
}
