from corpus_stats.cli import main

main()
