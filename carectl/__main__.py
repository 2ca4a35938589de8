from carectl.cli import main

main()
