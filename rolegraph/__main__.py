from rolegraph.cli import main

main()
