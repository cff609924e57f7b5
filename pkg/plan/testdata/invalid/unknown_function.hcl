# want: 3:12 | Call to unknown function | Did you mean "upper"?
image "app" {
  target = uper("x")
}
