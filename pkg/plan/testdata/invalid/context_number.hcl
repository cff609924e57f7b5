# want: 3:16 | Invalid named context | 
image "app" {
  contexts = { base = 3 }
}
