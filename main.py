from source_amplitude.run import run

if __name__ == "__main__":
    run()
