"""Page layouts and the shared components they are built from."""
