# want: 3:19 | Invalid function argument | 
image "app" {
  target = regex("(", "x")
}
