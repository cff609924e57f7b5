# want: 3:13 | Missing build context | does not exist
image "app" {
  context = "nowhere"
}
