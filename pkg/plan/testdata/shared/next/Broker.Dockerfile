FROM scratch AS final
