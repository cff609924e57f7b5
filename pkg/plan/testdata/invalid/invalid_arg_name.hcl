# want: 3:12 | Invalid build argument name | 
image "app" {
  args = { "A B" = "1" }
}
