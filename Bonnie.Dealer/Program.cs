return Bonnie.Dealer.DealerCommand.Run(args, Console.OpenStandardInput, TimeProvider.System);
