from groundspeed.cli import main

main()
