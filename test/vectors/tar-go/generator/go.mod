module buildkit-ts/tar-vectors

go 1.19
