# want: 2:1 | Unsupported block type | Did you mean "image"?
imag "app" {}
