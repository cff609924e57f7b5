# want: 3:13 | Invalid expression | 
image "app" {
  context = 
}
