from cnncalc.cli.app import main

main()
